// Package snapshot owns deploy-time pre-initialization of WebAssembly
// modules, the technique Wizer made known, done in pure Go: run a
// reactor's _initialize once, capture the linear memory and globals it
// leaves behind, and emit a new module whose global initializers and data
// segments hold that state and which no longer exports _initialize. A
// fresh instance of the result starts where an instance of the original
// would be after _initialize, without running it.
//
// The package is a binary rewriter; it never executes code and does not
// depend on wasmtime. Running the initializer is the caller's job, through
// a Runner, because only the caller has the engine and the host functions
// the initializer calls:
//
//	Instrument(wasm)          -> a copy that exports every global and the memory
//	Runner(instrumented, ...) -> State: global values and a copy of the memory
//	Rewrite(wasm, ..., State) -> the pre-initialized module
//	Snapshot(wasm, run)       -> all three, with Stats
//	Split(wasm)               -> code importing its memory, and a data module defining it
//
// The output is a plain core module: the runtime validates, compiles and
// caches it like any other, and wasmtime turns its data segments into a
// copy-on-write memory image, so a snapshot instance maps the initialized
// heap instead of rebuilding it. The output depends only on the input
// bytes and the State, so it can be content-addressed.
//
// # Format
//
// Instrumentation names: each defined global of type i32, i64, f32 or f64
// (mutable or not) is exported as "__wedge_snapshot_global_<index>", the
// index counting imported globals first; the memory is exported as
// "__wedge_snapshot_memory" even if it is exported under another name too.
// A module already using one of these names is refused.
//
// Rewrite, against the original bytes (never the instrumented ones):
//
//   - Globals: every defined mutable global's initializer becomes a single
//     t.const of its captured bits (NaN payloads included). Immutable
//     globals keep their original initializer, which may read an
//     imported global the host supplies afresh to every instance.
//   - Memory: the minimum becomes the captured size in 64 KiB pages (so
//     memory.grow during init is kept); flags and maximum are unchanged.
//   - Data: the original active segments are replaced by active segments,
//     at i32.const offsets, over the non-zero runs of the captured memory.
//     Runs separated by fewer than 32 zero bytes share a segment, and if
//     more than 10,000 segments remain the smallest gaps are merged until
//     10,000 do (engines refuse more than 100,000). Zero bytes need no
//     segment: memory starts zeroed.
//   - Data segment indices: memory.init and data.drop may name a segment
//     only if the module has a data count section. Without one, the data
//     section holds just the snapshot's segments. With one, the original
//     segments keep their indices: passive ones are copied unchanged,
//     active ones become empty passive segments (which behave exactly like
//     the dropped segment an active one is after instantiation: a
//     zero-length memory.init at offset 0 succeeds, anything else traps),
//     the snapshot's segments are appended after them, and the data count
//     is updated.
//   - The "_initialize" export and the start section are removed: both
//     have run. The function itself stays, so indices do not move.
//   - Everything else (types, imports, functions, tables, tags, element
//     segments, code, custom sections such as "name", "producers" or
//     DWARF, whose code offsets do not move) is copied byte for byte, in
//     order. A section the original lacked (the data section of a module
//     whose memory started empty) is inserted right after the last
//     section that must precede it, so a trailing "name" section stays
//     last.
//
// # What is refused (ErrUnsupported)
//
// An imported memory (its contents belong to the host); more than one
// memory (multi-memory); a 64-bit, shared or custom-page-size memory; an
// imported mutable global (its value lives in the host); a mutable global
// of type v128 or a reference type (wasmtime-go cannot read a v128, and a
// reference cannot be written as a constant); components; encodings newer
// than this package knows. Immutable v128 and reference globals are
// passed through untouched. The decoder checks every bound and reports
// ErrMalformed rather than panicking; full validation is the engine's job
// and the tests validate every output with wasmtime.
//
// # Caveats: what the snapshot cannot see
//
// The snapshot is exactly the guest's memory and globals at the moment
// _initialize returned. Anything else is either lost or frozen:
//
//   - Tables. Table contents are not captured (nor by Wizer). An
//     initializer that runs table.set, table.grow, table.fill, table.init
//     or elem.drop produces a snapshot whose tables are the original
//     ones. Go, C, C++ and Rust toolchains fill tables from element
//     segments at instantiation and do not mutate them at init; a module
//     that registers function pointers at run time (dynamic linking,
//     emscripten's addFunction) must not be snapshotted.
//   - Dropped segments. A data.drop or elem.drop executed during init is
//     not recorded: in the snapshot the passive segment is live again.
//   - Host state. Whatever the host did for the initializer (open files,
//     resources, handles, a key-value read) is not carried over; only its
//     effect on guest memory is, frozen at deploy time.
//   - Host answers are baked in. Every value the guest read from the host
//     during init is shared by every instance of the snapshot: the
//     environment and arguments (Go copies them at start-up, so
//     os.Getenv and os.Args report the snapshot-time values; the
//     environment must therefore be the one instances will be served
//     with, and a configuration change requires a new snapshot), clock
//     readings taken at init, and random bytes.
//
// Measured with the Go reactor in testdata/goreactor (Go 1.26, wasip1,
// -buildmode=c-shared, 2.5 MB module): its memory grows from 38 to 56
// pages during init; about 565 KB of the 3.5 MiB are non-zero, written as
// about 700 segments holding 1.38 MB, and the snapshot module is 2.98 MB.
// Fresh snapshot instances, without _initialize, return the same results
// as initialized originals, allocate, collect (runtime.GC), run goroutines
// and channels, sleep on timers and read time.Now correctly, repeatedly.
// What they share:
//
//   - Runtime randomness. The Go runtime seeds its generator from
//     random_get during init, so the top-level functions of math/rand/v2
//     (measured) and math/rand (same source) return the same sequence in
//     every instance, map iteration order repeats (measured), and every
//     instance has the same map hash seeds. crypto/rand calls random_get
//     on every read and stays unpredictable (measured). Guests needing
//     per-request randomness must use crypto/rand or seed their own
//     generator from it.
//   - Clocks. time.Now taken at init is a constant of the snapshot.
//     Monotonic readings recorded at init (the runtime's start time,
//     timers armed during init) come from the deploying host's monotonic
//     clock, which another process or node does not share: the tests
//     serve snapshots whose monotonic clock is 30 days behind and 30 days
//     ahead of the one seen at init and the runtime keeps working (sleeps,
//     timers, GC), but time.Since of an init-time time.Now is off by the
//     difference, and a timer armed during init would fire that much late
//     or early.
package snapshot
