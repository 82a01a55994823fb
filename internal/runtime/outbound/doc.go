// Package outbound is the HTTP client behind the wedge_v1 http_* host
// functions: the way a guest reaches other services.
//
// One Client serves the whole node: a shared net/http Transport pools and
// keeps alive connections across the requests of every function, bounded
// per host, with the system's root certificates plus an operator CA
// bundle; closing a response whose small body was not read drains it so
// its connection goes back to the pool. Every request is checked against the calling function's Policy:
//
//   - its allow-list (allow.go), deny by default: scheme, host or wildcard
//     subdomain, port; every redirect hop is checked again;
//   - SSRF rules at dial time (dial.go): after DNS resolution, loopback,
//     private, link-local and unspecified addresses are refused unless the
//     list names that exact address and port, and the node's own admin
//     port is never reachable;
//   - limits: time per request (always within the function's deadline,
//     which the caller puts in the context), response bytes, and a
//     node-wide bound on requests in flight.
//
// Metrics per function and destination host are kept here (metrics.go)
// and written in the Prometheus text format by WriteMetrics.
package outbound
