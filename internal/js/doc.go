// Package js runs JavaScript functions, Workers-style, on wedge: a
// script that does `export default { async fetch(request, env, ctx) {...} }`
// is combined at deploy with wedge's JavaScript engine, a WebAssembly
// module built from QuickJS-ng (third_party/quickjs-ng) and wedge's glue
// (engine/wedge_js.c, engine/prelude.js) by build.sh and committed as
// engine/wedge-js.wasm, so that building wedge needs no wasm toolchain.
//
// Combine returns an ordinary native-entry reactor: the engine with the
// script appended to its initial memory (see engine/wedge_js.c for the
// layout). Its _initialize compiles and evaluates the script; the node
// snapshots that state at deploy like any reactor's (internal/snapshot),
// so every request starts from an engine that has already loaded the
// script, in a fresh instance. Because the combined module is
// self-contained, storage, replication and the cluster treat it like any
// other module.
//
// The node does not compile each combined module to snapshot it: it
// pre-initializes the engine itself with Trailer(script) written at the
// end of its memory, which is exactly the memory the combined module
// starts with, and keeps the engine's compilation between deploys; a
// node given a combined module (replication) recovers the script with
// Split. Both routes give the same snapshot, byte for byte.
//
// Each request runs the module's fetch handler (export wedge_handle);
// each event its scheduled, queue, kvChange or upload handler (export
// wedge_event). The glue runs promise jobs and due timers until the
// handler's promise settles. env holds the configuration, KV bindings
// (the function's namespace and each granted one) and a queue producer;
// fetch() goes through the host's outbound HTTP calls. docs/javascript.md
// is the user's reference; testdata/compat holds the compatibility
// scripts.
//
// A script that does not compile, throws at top level, or exports no
// handler fails _initialize; the engine logs the error (with the line
// and column) at error level and traps, and the registry reports that
// log as the deploy's 400.
package js
