// Package wasmpool owns the two wasmtime features that make a fresh
// instance per request cheap and that wasmtime-go v39 does not expose:
//
//   - the pooling instance allocator (EnablePooling, PoolConfig): slots for
//     instances, linear memories and tables are reserved once per engine,
//     and a slot that held the same module keeps its copy-on-write memory
//     image, so instantiation neither maps memory nor copies data segments;
//   - pre-resolved instantiation (InstancePre): a module's imports are
//     resolved against the linker and type-checked once, when the module is
//     loaded, not on every request.
//
// Everything else stays wasmtime-go: callers pass a *wasmtime.Config,
// *wasmtime.Linker, *wasmtime.Module and wasmtime.Storelike, and get back a
// *wasmtime.Instance (and *wasmtime.Error / *wasmtime.Trap errors) that work
// with GetExport, Func.Call and Memory as usual.
//
// # Typical use
//
//	cfg := wasmtime.NewConfig()
//	cfg.SetEpochInterruption(true)
//	if err := wasmpool.EnablePooling(cfg, wasmpool.PoolConfig{}); err != nil { ... }
//	engine := wasmtime.NewEngineWithConfig(cfg)
//	linker := wasmtime.NewLinker(engine) // host functions via FuncNew/FuncWrap
//
//	pre, err := wasmpool.NewInstancePre(linker, module) // once per module
//	...
//	store := wasmtime.NewStore(engine)                  // per request
//	inst, err := pre.Instantiate(store)
//	if wasmpool.IsPoolExhausted(err) { /* shed load */ }
//	...
//	store.Close() // returns the slots to the pool at once
//	...
//	pre.Close() // when the module is retired
//
// # Why unsafe
//
// The C functions exist in the libwasmtime.a that wasmtime-go links, but
// wasmtime-go keeps the C handles they need in unexported fields. This
// package reads those fields (Config, Linker, Module) and builds values of
// wasmtime-go types around C results (Instance, Error, Trap) through
// unsafe. That is confined to layout.go; all other code uses the accessors
// defined there. It follows wasmtime-go's own discipline (ffi.go): every
// object whose handle crosses into C is kept alive with runtime.KeepAlive
// until the call returns, and under the debug build tag each handle read
// runs a garbage collection so that a missing KeepAlive crashes the tests.
//
// The C prototypes are restated in wasmpool.h rather than included from
// the module cache, because cgo directives can only name this package's
// own directory (${SRCDIR}), not another module's.
//
// # What is checked
//
//   - At init, checkLayout compares each wasmtime-go field used with the C
//     type declared here: field name and offset, Go kind, size, alignment
//     and cgo type name, recursively; wrappers this package constructs must
//     have no other field. On a mismatch the entry points that depend on it
//     (EnablePooling needs only Config; NewInstancePre the others) return
//     an error wrapping ErrLayout and nothing unsafe runs; TestLayout fails.
//     The runtime can then fall back, e.g. to Linker.Instantiate.
//   - At compile time, the sizes of the wrappers are pinned (layout.go).
//   - TestHeaderMatchesUpstream compiles wasmpool.h after wasmtime-go's own
//     headers, so a changed prototype or typedef is a C compile error, and
//     TestHeaderFunctionsExistUpstream checks each function is still there.
//   - TestLinkNormalBinary builds and runs a plain program using the
//     package, proving the symbols link outside tests too.
//
// When upgrading wasmtime-go, change the import path and wasmtimePkg, and
// run go test -race and go test -race -tags debug on this package.
//
// # Caveats
//
//   - The pool reserves address space when the engine is built: about
//     TotalMemories × (4 GiB + 32 MiB) with wasmtime's default memory
//     reservation, so about 4 TiB for the defaults (see
//     PoolConfig.ReservedAddressSpace). It is PROT_NONE and costs no memory,
//     but fails under a virtual-memory rlimit (ulimit -v) or on hosts with a
//     small address space. Wasmtime aborts the process if the reservation
//     or the configuration is rejected, which is why EnablePooling
//     validates first.
//   - MaxMemoryBytes cannot exceed the memory reservation: memories in a
//     pool never move. Modules whose initial memory exceeds it are rejected.
//   - Limits are per engine. A full pool makes instantiation fail with an
//     error (IsPoolExhausted) and never blocks; slots come back when the
//     store is closed, so close stores explicitly rather than relying on
//     finalizers.
package wasmpool
