// Package access owns who may use a node's admin API and the record of
// what they did: scoped admin tokens and the audit log.
//
// # Tokens
//
// A token is a name, a scope (read, kv, deploy, admin), an optional glob
// over function names, and the SHA-256 of a 32-byte random secret. The
// secret is shown once, when the token is created (NewSecret); only its
// hash is stored. Tokens live in the key-value store, in the reserved
// namespace TokensNamespace, so they replicate to every node of a cluster
// like any KV data (eventually consistent, last-writer-wins): a token
// created or revoked on one node works, or stops working, on the others
// within the KV propagation time. Reserved namespaces (kv.Reserved) are
// out of reach of guests, of KV triggers and of the admin KV API.
//
// The node's first token (--admin-token, or <data>/admin-token) is not
// stored here: it is checked by the gateway as before and acts as the
// token named "admin" with the admin scope.
//
// Scope rules (Authorize):
//
//	read    GET and HEAD of every endpoint except tokens, audit and cluster keys
//	kv      every method of /v1/kv
//	deploy  read, plus PUT, POST and DELETE of /v1/functions/{name} and /v1/apps/{app}
//	admin   everything
//
// A token with a functions pattern (path.Match syntax) may reach
// /v1/functions/{name} and /v1/apps/{app} only for names the pattern
// matches (the gateway also checks every function an app request
// touches).
//
// # Audit log
//
// Every admin request that is not node-to-node is appended to
// <data>/audit.log as one JSON line: time, token name ("" when no valid
// token was presented), method, path, status and client address. The
// file is rotated to audit.log.1 when it passes Audit's size bound, so
// the log keeps between one and two bounds of history. The log is per
// node: it records the requests this node served. Tokens' last use is
// the time of their last entry on this node, rebuilt from the log at
// start.
package access
