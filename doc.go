// Package wedge embeds a wedge node in a Go program.
//
// A node serves two sides: the public gateway, which routes HTTP requests
// to deployed WebAssembly functions, and the admin API (functions, apps,
// key-value data, queues, buckets, logs, metrics), guarded by a bearer
// token. Start opens the node's data directory, loads every function
// deployed there, and serves both sides, on listeners the program passes
// in (Config.PublicListener, Config.AdminListener) or on addresses it
// names; Close stops it and reports what failed to close.
//
//	n, err := wedge.Start(ctx, wedge.Config{DataDir: "data", PublicListener: pub, AdminListener: adm})
//	if err != nil { ... }
//	defer n.Close()
//
// Deploy functions through the admin API, with the client package:
//
//	cl := client.New("http://"+n.AdminAddr(), n.AdminToken())
//	cl.Deploy(ctx, "hello", wasm, client.DeployOptions{Routes: []string{"/hello"}})
//
// # Handlers
//
// The node always serves its own listeners, with fasthttp. PublicHandler
// and AdminHandler return the same two sides as net/http handlers, for a
// program that wants to mount them in its own server (under a mux, behind
// its own TLS or middleware). They copy each request and response between
// net/http and fasthttp, so they cost more than the listeners; a response
// streamed by the admin API (logs with follow) is flushed as written.
// Node-to-node traffic of a cluster always goes to the admin listener.
//
// # What is public
//
// This package, client (the admin API's Go client), manifest (wedge.toml)
// and abi (the host/guest contract) are wedge's public Go API. Everything
// else is under internal/ and may change.
package wedge
