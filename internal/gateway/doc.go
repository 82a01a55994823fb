// Package gateway owns the node's two fasthttp servers, HTTP adapters
// over the node's parts:
//
//   - the public gateway (public.go): routes a request to a function,
//     translates it to the ABI, runs it through the node's one invoke path
//     (internal/invoke: admission, invocation, retry on a retired version,
//     logs) and writes the response; a request the node sheds goes to a
//     peer when one can take it (forward.go), one under affinity to its
//     key's owner; the same handler serves its HTTPS listener (https.go:
//     certificates from internal/certs, the redirect of plain HTTP per
//     host, HSTS);
//   - the admin API (admin*.go): deploy, list and delete functions, logs,
//     metrics, health, behind bearer tokens (admin_tokens.go: the node's
//     admin token or a scoped token of internal/access, checked against
//     the token's scope, a token restricted to a functions pattern seeing
//     no other function in any listing, admin_scope.go; every request
//     written to the audit log) or,
//     through the hook in console.go, the web console's session
//     (internal/console), which acts as the admin token;
//   - the mapping of every error to an HTTP status (errors.go), in one
//     place;
//   - what guards both servers: a handler panic becomes a 500 with a
//     request id instead of ending the process (recover.go), and a request
//     head with bare-LF line endings gets its 400 at once (barelf.go);
//   - net/http adapters of both servers for embedders (nethttp.go).
package gateway
