// Package console is the web console served on the admin port at
// /console: a page, a stylesheet and a script embedded in the binary
// (static/), no framework and no external resource.
//
//   - Sign-in exchanges a token the node accepts (its admin token, or
//     one made with wedge tokens create) for a session (session.go): a
//     random id in an HTTP-only, SameSite=Strict cookie (Secure over
//     TLS); sign-out revokes it. The token itself never leaves the
//     sign-in request. Sessions are kept in the reserved KV namespace
//     SessionsNamespace under the hash of their id, so they replicate
//     like the tokens: a session works on every node that accepts its
//     token, and a sign-out or a revocation anywhere ends it. The
//     gateway drops the cookie from public requests (a host's cookies
//     reach every port of it, so functions would see it).
//   - The page then calls the admin API itself, which accepts the session
//     cookie as it accepts the bearer token (Console.Authorize, installed
//     with gateway.Server.SetSessionAuth), as the token the session was
//     signed in with, looked up again on every request: its scope and
//     functions pattern apply, and a revoked token's sessions end. A
//     request that changes anything must also carry the X-Wedge-Console
//     header, which a page of another origin cannot send without a CORS
//     preflight the admin API never grants (the CSRF defence, with
//     SameSite=Strict). The page offers only what the token may do.
//   - A few read endpoints the admin API lacked live here (api.go):
//     request history for the charts, the event sources (queues,
//     schedules, buckets), and key ownership under affinity. A token
//     with a functions pattern sees only what concerns the functions it
//     matches (scope.go).
//   - history.go samples the gateway's per-function counters every 10 s
//     into a bounded ring per function (an hour), for the charts of
//     requests/s, error rate and p50/p99.
//
// Every console response carries a strict Content-Security-Policy: the
// script is a file of its own, no inline script, no inline handler, no
// inline style, Trusted Types required.
package console
