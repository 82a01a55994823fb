// Package runtime owns WebAssembly execution: one wasmtime engine per
// process, the validation and ahead-of-time compilation of deployed modules
// (with a content-addressed, memory-mapped artifact cache on disk), the host
// functions of the wedge ABI and of WASI preview 1, and the per-request
// life cycle: a fresh store and instance for every invocation, limits on
// memory, tables and time, and explicit teardown.
//
// Deploy-time checks run on what a module declares, read from its bytes
// without compiling it (decls.go, check.go): unknown imports, a missing
// entry point or a memory minimum above the function's limit are refused
// in microseconds, whatever the module's size. The artifact cache
// (cache.go) deletes what no live version uses when its owner asks
// (Engine.KeepArtifacts, Engine.CollectArtifacts), never an artifact an
// open module holds.
//
// Modules whose code was registered with Engine.ShareCode (every
// JavaScript snapshot: the QuickJS engine's code with one script's
// memory) are served split at first (split.go): the shared code is
// compiled once per engine, each module adds a data module holding its
// memory image, and a request instantiates both; each is then compiled
// whole in the background, one at a time on a second single-threaded
// wasmtime engine, and its requests switch to that.
//
// Guests reach other services through the outbound HTTP host functions
// (host_wedge_http.go), which call the node's client in internal/runtime/outbound
// with the function's allow-list; a call honours the invocation's
// deadline itself, since the epoch interruption cannot stop a guest while
// it waits inside the host.
//
// It knows nothing of HTTP servers, routing or gossip: the gateway hands it
// an encoded request (see package abi) and receives a status, headers and
// a body, or a typed error (errors.go) that the gateway maps to a status.
//
// Lifetimes, from longest to shortest:
//
//	Engine   one per process: wasmtime engine, linker with every host function, epoch ticker
//	Module   one per deployed version: the compiled (or deserialized) module, reference counted
//	         (a split one also holds a reference to its shared code module)
//	Call     one per request: store, instance, request and response buffers; closed on return
package runtime
