// Package gateway owns the node's two fasthttp servers and what sits in
// front of the runtime:
//
//   - the public gateway (public.go): routes a request to a function,
//     admits it through the scheduler (scheduler.go: slots, memory budget
//     and fair queue; admission.go: who may take a slot; queuewait.go: who
//     may wait; adaptive.go: the gradient limit), translates it to the ABI, runs it in a fresh
//     instance and writes the response; the same handler serves its
//     HTTPS listener (https.go: certificates from internal/certs, the
//     redirect of plain HTTP per host, HSTS);
//   - the admin API (admin*.go): deploy, list and delete functions, logs,
//     metrics, health, behind bearer tokens (admin_tokens.go: the node's
//     admin token or a scoped token of internal/access, checked against
//     the token's scope; every request written to the audit log);
//   - the mapping of every error to an HTTP status (errors.go), in one
//     place;
//   - what guards both servers: a handler panic becomes a 500 with a
//     request id instead of ending the process (recover.go), and a request
//     head with bare-LF line endings gets its 400 at once (barelf.go).
package gateway
