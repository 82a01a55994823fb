package snapshot

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// One engine for the whole test binary; wasmtime engines are safe for
// concurrent use.
var (
	engineOnce sync.Once
	engine     *wasmtime.Engine
)

func testEngine() *wasmtime.Engine {
	engineOnce.Do(func() { engine = wasmtime.NewEngine() })
	return engine
}

func wat(t testing.TB, src string) []byte {
	t.Helper()
	b, err := wasmtime.Wat2Wasm(src)
	if err != nil {
		t.Fatalf("wat2wasm: %v", err)
	}
	return b
}

func mustValidate(t testing.TB, wasm []byte) {
	t.Helper()
	if err := wasmtime.ModuleValidate(testEngine(), wasm); err != nil {
		t.Fatalf("wasmtime rejects the module: %v", err)
	}
}

// clock is the monotonic clock a test linker gives its guests: host
// monotonic time since process start, shifted by offset nanoseconds.
// A zero-valued clock uses wasmtime's own WASI clock.
type clock struct{ offset int64 }

var processStart = time.Now()

// newLinker returns a linker with wasmtime's WASI and, for a non-zero
// clock, a clock_time_get whose monotonic clock is shifted.
func newLinker(t testing.TB, c clock) *wasmtime.Linker {
	t.Helper()
	l := wasmtime.NewLinker(testEngine())
	if err := l.DefineWasi(); err != nil {
		t.Fatal(err)
	}
	if c.offset == 0 {
		return l
	}
	l.AllowShadowing(true)
	err := l.FuncWrap("wasi_snapshot_preview1", "clock_time_get",
		func(caller *wasmtime.Caller, id int32, _ int64, ptr int32) int32 {
			var now int64
			switch id {
			case 0:
				now = time.Now().UnixNano()
			case 1, 2, 3:
				now = int64(time.Since(processStart)) + c.offset
			default:
				return 28 // EINVAL
			}
			mem := caller.GetExport("memory").Memory().UnsafeData(caller)
			if ptr < 0 || int(ptr)+8 > len(mem) {
				return 21 // EFAULT
			}
			binary.LittleEndian.PutUint64(mem[ptr:], uint64(now))
			return 0
		})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// instance is one fresh store and instance with WASI.
type instance struct {
	t     testing.TB
	store *wasmtime.Store
	inst  *wasmtime.Instance
}

// instantiate creates a fresh instance of mod, calling _initialize first
// if init is set and the module exports it.
func instantiate(t testing.TB, l *wasmtime.Linker, mod *wasmtime.Module, init bool) *instance {
	t.Helper()
	store := wasmtime.NewStore(testEngine())
	store.SetWasi(wasmtime.NewWasiConfig())
	inst, err := l.Instantiate(store, mod)
	if err != nil {
		store.Close()
		t.Fatalf("instantiate: %v", err)
	}
	in := &instance{t: t, store: store, inst: inst}
	t.Cleanup(store.Close)
	if init {
		if f := inst.GetFunc(store, InitializeExport); f != nil {
			if _, err := f.Call(store); err != nil {
				t.Fatalf("_initialize: %v", err)
			}
		}
	}
	return in
}

// Compiled modules, by content: the Go reactor takes seconds to compile
// and several tests instantiate the same bytes.
var (
	modulesMu sync.Mutex
	modules   = map[[sha256.Size]byte]*wasmtime.Module{}
)

func compileCached(wasm []byte) (*wasmtime.Module, error) {
	key := sha256.Sum256(wasm)
	modulesMu.Lock()
	defer modulesMu.Unlock()
	if m, ok := modules[key]; ok {
		return m, nil
	}
	m, err := wasmtime.NewModule(testEngine(), wasm)
	if err == nil {
		modules[key] = m
	}
	return m, err
}

func compile(t testing.TB, wasm []byte) *wasmtime.Module {
	t.Helper()
	mod, err := compileCached(wasm)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return mod
}

// call invokes an export and fails the test on a trap.
func (in *instance) call(name string, args ...any) any {
	in.t.Helper()
	v, err := in.try(name, args...)
	if err != nil {
		in.t.Fatalf("%s%v: %v", name, args, err)
	}
	return v
}

// try invokes an export and returns its trap, if any.
func (in *instance) try(name string, args ...any) (any, error) {
	f := in.inst.GetFunc(in.store, name)
	if f == nil {
		return nil, fmt.Errorf("no exported function %q", name)
	}
	return f.Call(in.store, args...)
}

func (in *instance) hasExport(name string) bool {
	return in.inst.GetExport(in.store, name) != nil
}

// wasiRunner is the test's Runner: a fresh store with WASI, instantiate,
// _initialize, then read the exported globals and copy the memory.
func wasiRunner(t testing.TB, c clock) Runner {
	l := newLinker(t, c)
	return func(instrumented []byte, globals []GlobalInfo) (State, error) {
		mod, err := compileCached(instrumented)
		if err != nil {
			return State{}, err
		}
		store := wasmtime.NewStore(testEngine())
		defer store.Close()
		store.SetWasi(wasmtime.NewWasiConfig())
		inst, err := l.Instantiate(store, mod)
		if err != nil {
			return State{}, err
		}
		if f := inst.GetFunc(store, InitializeExport); f != nil {
			if _, err := f.Call(store); err != nil {
				return State{}, fmt.Errorf("_initialize: %w", err)
			}
		}
		var st State
		for _, g := range globals {
			ext := inst.GetExport(store, g.ExportName)
			if ext == nil || ext.Global() == nil {
				return State{}, fmt.Errorf("global export %q missing", g.ExportName)
			}
			v := ext.Global().Get(store)
			switch g.Type {
			case I32:
				st.Globals = append(st.Globals, ValueI32(v.I32()))
			case I64:
				st.Globals = append(st.Globals, ValueI64(v.I64()))
			case F32:
				st.Globals = append(st.Globals, ValueF32(v.F32()))
			case F64:
				st.Globals = append(st.Globals, ValueF64(v.F64()))
			default:
				return State{}, fmt.Errorf("global %d: type %s", g.Index, g.Type)
			}
		}
		if ext := inst.GetExport(store, MemoryExport); ext != nil && ext.Memory() != nil {
			st.Memory = append([]byte(nil), ext.Memory().UnsafeData(store)...)
		}
		return st, nil
	}
}

// snapshotOf runs Snapshot with the default WASI runner, validates the
// result with wasmtime and returns it.
func snapshotOf(t testing.TB, wasm []byte) ([]byte, Stats) {
	t.Helper()
	out, stats, err := Snapshot(wasm, wasiRunner(t, clock{}))
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	mustValidate(t, out)
	return out, stats
}

func wat2wasmForFuzz(src string) ([]byte, error) { return wasmtime.Wat2Wasm(src) }
