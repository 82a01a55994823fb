// Package wasmpool owns the two wasmtime features that make a fresh
// instance per request cheap and that wasmtime-go v39 does not expose:
//
//   - the pooling instance allocator (EnablePooling, PoolConfig): slots for
//     instances, linear memories and tables are reserved once per engine,
//     and a slot that held the same module keeps its copy-on-write memory
//     image, so instantiation neither maps memory nor copies data segments;
//   - pre-resolved instantiation (InstancePre): a module's imports are
//     resolved against the linker and type-checked once, when the module is
//     loaded, not on every request; InstantiateLinked then instantiates a
//     second module whose imports (a memory among them) are the first
//     instance's exports, in one call;
//   - wasmtime's PAGEMAP_SCAN reset of freed memory and table slots
//     (PoolConfig.NoPagemapScan, PagemapScanAvailable): only the pages an
//     instance wrote are restored, so a reset costs what a request
//     touched, not the size of the module's memory. The C API of
//     wasmtime 39 has no setter for it; pagemap.c sets the one byte of
//     the pooling configuration after probing that every other field of
//     the linked library's configuration lies where it expects, and
//     leaves it off otherwise.
//
// It also owns a cheaper way through the per-request path, where
// wasmtime-go's own costs dominate once instantiation is cheap:
//
//   - LookupFunc and LookupMemory find exports without wasmtime-go's
//     *Extern (which carries a finalizer); Call and CallI32 call a function
//     with i32 arguments without building a *FuncType per call, without
//     boxing arguments, and without allocating at all; MemoryData reads a
//     memory's bounds in one cgo call;
//   - DefineFunc defines a host function with wasmtime's unchecked calling
//     convention and this package's own trampoline, which reads arguments
//     straight from wasmtime's value array and hands the function the
//     store's data without wasmtime-go's global locks.
//
// And it keeps time for epoch interruption: Ticker advances an engine's
// epoch from a native thread (ticker.c) in step with the monotonic clock,
// so that time limits hold when the Go scheduler is slow (every core busy
// with guests); SetDeadline gives a store a wall-clock deadline, checked
// at every epoch by a C callback that yields the core meanwhile, and Lag
// tells a plain epoch deadline how far the epoch is behind.
//
// Everything else stays wasmtime-go: callers pass a *wasmtime.Config,
// *wasmtime.Linker, *wasmtime.Module and wasmtime.Storelike, and get back a
// *wasmtime.Instance, *wasmtime.Func, *wasmtime.Memory (and
// *wasmtime.Error / *wasmtime.Trap errors) that work with the rest of
// wasmtime-go as usual, and the two paths can be mixed freely.
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
// With the fast call path, per request:
//
//	store := wasmtime.NewStoreWithData(engine, req) // req reaches host functions as data
//	defer store.Close()
//	inst, err := pre.Instantiate(store)
//	...
//	mem, _ := wasmpool.LookupMemory(store, inst, "memory")
//	f, ok := wasmpool.LookupFunc(store, inst, "handle")
//	if !ok { ... }
//	r, err := wasmpool.CallI32(store, f, a, b) // *wasmtime.Trap or *wasmtime.Error, as Func.Call
//
// and host functions, once per linker:
//
//	err := wasmpool.DefineFunc(linker, "env", "write", params, results,
//		func(data any, caller *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
//			req := data.(*Request)
//			buf := wasmpool.MemoryData(caller, req.mem)
//			...
//		})
//
// # Why unsafe
//
// The C functions exist in the libwasmtime.a that wasmtime-go links, but
// wasmtime-go keeps the C handles they need in unexported fields. This
// package reads those fields (Config, Engine, Linker, Module, and the C values
// inside Instance, Func and Memory) and builds values of wasmtime-go types
// around C results (Instance, Func, Memory, Error, Trap, and the Caller
// handed to host functions) through unsafe. That is confined to
// layout.go; all other code uses the accessors defined there. It follows
// wasmtime-go's own discipline (ffi.go): every object whose handle crosses
// into C is kept alive with runtime.KeepAlive until the call returns, and
// under the debug build tag each handle read runs a garbage collection so
// that a missing KeepAlive crashes the tests.
//
// The C prototypes are restated in wasmpool.h rather than included from
// the module cache, because cgo directives can only name this package's
// own directory (${SRCDIR}), not another module's. The few C helpers of
// the call path are in call.c; they take and return values only, so that
// nothing wasmtime writes during a call lives in Go memory (a host
// function may run Go code in the middle of a call, and goroutine stacks
// move).
//
// # What is checked
//
//   - At init, checkLayout compares each wasmtime-go field used with the C
//     type declared here: field name and offset, Go kind, size, alignment
//     and cgo type name, recursively; wrappers this package constructs must
//     have no other field. On a mismatch the entry points that depend on it
//     (EnablePooling needs only Config, the ticker Engine and Store;
//     NewInstancePre Linker, Module, Instance, Error and Trap) return an error wrapping ErrLayout and
//     nothing unsafe runs; TestLayout fails. The runtime can then fall
//     back, e.g. to Linker.Instantiate. The call path (Func, Memory) and
//     DefineFunc (Linker, Caller) fall back by themselves to wasmtime-go's
//     public API (GetFunc, Func.Call, Linker.FuncNew), with the same
//     results; FastPathErr reports it.
//   - At compile time, the sizes of the wrappers are pinned (layout.go),
//     and _Static_asserts in wasmpool.h pin the sizes and offsets of the C
//     structs the helpers in call.c use.
//   - TestHeaderMatchesUpstream compiles wasmpool.h and call.c after
//     wasmtime-go's own headers, so a changed prototype or typedef is a C
//     compile error, the layout asserts run against the upstream structs,
//     and call.c's field accesses are checked against them;
//     TestHeaderFunctionsExistUpstream checks each function is still
//     there; TestExportsMatchCallC checks call.c's declarations of the Go
//     functions host.go exports against cgo's generated prototypes.
//   - TestCallMatchesFuncCall and TestHostMatchesFuncNew run the same calls
//     (results, traps, epoch interrupts, host traps and panics) through
//     both paths and compare the outcomes.
//   - TestLinkNormalBinary builds and runs a plain program using the
//     package, proving the symbols (and the exported trampoline) link
//     outside tests too.
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
//   - A host function defined with DefineFunc re-raises its panics only
//     when wasm was entered through this package (Call, CallI32,
//     InstancePre.Instantiate); entered through wasmtime-go, the panic
//     becomes an error. Host functions must not call runtime.Goexit (nor
//     t.Fatal in tests), with either path: it would unwind through
//     wasmtime's frames.
//   - Call and CallI32 only pass i32 arguments and return nothing or one
//     i32; other signatures need Func.Call.
package wasmpool
