// Package conformance holds the cross-language conformance suite of the
// wedge SDKs: one list of HTTP cases (status, headers both ways, query, a
// 1 MiB body echo checked by digest, a fresh instance per request (a
// global and a heap value every request increments read 1, one request
// after another and side by side), a key-value counter, compare-and-swap,
// TTL, delete and list, configuration and secrets, a log line, a trap
// giving 500, publishing to a queue, and one event of each kind: a queue
// message, a key-value change, an upload read back through object_read, a
// schedule tick) that a small guest
// in each language implements, run against every guest through a real node
// (conformance_test.go), so the SDKs cannot drift apart.
//
// Every guest answers the same routes, chosen by the last path segment so
// it can be deployed under any "/prefix/...": hello, head, echo, fresh, count, kv,
// log, config, publish and trap, plus typed event handlers that record
// what they decoded under "seen-queue", "seen-kv", "seen-upload" (and the
// object under "upload-body") and "seen-schedule" (and count "ticks"). The guests are the SDK examples
// sdk/c/examples/hello, sdk/rust/examples/hello and
// sdk/assemblyscript/examples/hello, and testdata/go for the Go SDK.
//
// The guests are built with the languages' own toolchains (Go; Debian's
// clang with wasi-libc; Debian's rustc and cargo with the wasm32 WASI
// standard library; the AssemblyScript compiler that npm install puts in
// sdk/assemblyscript). A missing C, Rust or AssemblyScript toolchain skips
// its language, or fails the test when WEDGE_REQUIRE_TOOLCHAINS=1, as CI
// sets.
package conformance
