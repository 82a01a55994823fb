package wasmpool

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

func TestInstantiateAndCall(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	l := newLinker(t, e)
	pre := newPre(t, l, compile(t, e, guestWAT))

	for i := range scaled(500) {
		s := wasmtime.NewStore(e)
		inst, err := pre.Instantiate(s)
		if err != nil {
			t.Fatalf("iteration %d: Instantiate: %v", i, err)
		}
		if got := call(t, s, inst, "run", int32(i)); got != int32(42+i) {
			t.Fatalf("iteration %d: run = %d, want %d", i, got, 42+i)
		}
		// The exported memory works through wasmtime-go's own API.
		ext := inst.GetExport(s, "memory")
		if ext == nil || ext.Memory() == nil {
			t.Fatal("no exported memory")
		}
		mem := ext.Memory()
		if data := mem.UnsafeData(s); len(data) != 64<<10 || data[16] != 42 {
			t.Fatalf("memory: len %d, data[16] = %d", len(data), data[16])
		}
		s.Close()
	}
}

// TestFreshState checks that each instance starts from the module's initial
// state, whatever the previous instance in the same pool slot did: the
// copy-on-write image, the zero pages, the global and the memory size are
// all reset.
func TestFreshState(t *testing.T) {
	for _, name := range []string{"pooling", "pooling-one-slot", "keep-resident"} {
		t.Run(name, func(t *testing.T) {
			pool := testPool()
			switch name {
			case "pooling-one-slot":
				// One slot: every instance reuses the previous one's memory.
				pool = PoolConfig{TotalCoreInstances: 1}
			case "keep-resident":
				// Resident pages are zeroed by memset rather than madvise.
				pool.LinearMemoryKeepResident = 1 << 20
			}
			e := newEngine(t, &pool, false)
			pre := newPre(t, newLinker(t, e), compile(t, e, guestWAT))
			for i := range scaled(200) {
				s := wasmtime.NewStore(e)
				inst, err := pre.Instantiate(s)
				if err != nil {
					t.Fatalf("iteration %d: %v", i, err)
				}
				if got := call(t, s, inst, "state"); got != freshState {
					t.Fatalf("iteration %d: state of a fresh instance = %d, want %d", i, got, freshState)
				}
				if got := call(t, s, inst, "dirty"); got != 208043001 {
					t.Fatalf("iteration %d: dirty = %d", i, got)
				}
				// Also write through the host view of memory.
				data := inst.GetExport(s, "memory").Memory().UnsafeData(s)
				data[16], data[100] = 0xff, 0xff
				s.Close()
			}
		})
	}
}

func TestTwoInstancesInOneStore(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	pre := newPre(t, newLinker(t, e), compile(t, e, guestWAT))
	s := wasmtime.NewStore(e)
	defer s.Close()
	a, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	call(t, s, a, "dirty")
	if got := call(t, s, b, "state"); got != freshState {
		t.Fatalf("second instance saw the first one's writes: state = %d", got)
	}
}

func TestPoolExhaustion(t *testing.T) {
	pool := PoolConfig{TotalCoreInstances: 4}
	e := newEngine(t, &pool, false)
	l := newLinker(t, e)
	m := compile(t, e, guestWAT)
	pre := newPre(t, l, m)

	var held []*wasmtime.Store
	defer func() {
		for _, s := range held {
			s.Close()
		}
	}()
	for i := range 4 {
		s := wasmtime.NewStore(e)
		held = append(held, s)
		if _, err := pre.Instantiate(s); err != nil {
			t.Fatalf("instance %d of 4: %v", i+1, err)
		}
	}

	s := wasmtime.NewStore(e)
	defer s.Close()
	inst, err := pre.Instantiate(s)
	if err == nil || inst != nil {
		t.Fatalf("fifth instance: got %v, %v; want an error", inst, err)
	}
	t.Logf("pool exhaustion error: %v", err)
	if !IsPoolExhausted(err) || !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("IsPoolExhausted(%v) = false", err)
	}
	var werr *wasmtime.Error
	if !errors.As(err, &werr) {
		t.Fatalf("error %T does not wrap *wasmtime.Error", err)
	}
	// Pin wasmtime's wording, on which IsPoolExhausted depends.
	if !strings.Contains(err.Error(), "maximum concurrent limit of 4 for core instances reached") {
		t.Fatalf("wasmtime's pool limit message changed: %q", err)
	}

	// Linker.Instantiate reports the same condition, as a bare *wasmtime.Error.
	if _, err := l.Instantiate(s, m); !IsPoolExhausted(err) {
		t.Fatalf("Linker.Instantiate on a full pool: IsPoolExhausted(%v) = false", err)
	}
	if IsPoolExhausted(nil) || IsPoolExhausted(errors.New("x")) || IsPoolExhausted(ErrClosed) {
		t.Fatal("IsPoolExhausted reports unrelated errors")
	}

	// Closing a store frees its slot; the store that failed is still usable.
	held[0].Close()
	held = held[1:]
	inst, err = pre.Instantiate(s)
	if err != nil {
		t.Fatalf("after freeing a slot: %v", err)
	}
	if got := call(t, s, inst, "run", int32(1)); got != 43 {
		t.Fatalf("run = %d", got)
	}
}

func TestMemoryPoolExhaustion(t *testing.T) {
	pool := PoolConfig{TotalCoreInstances: 8, TotalMemories: 2}
	e := newEngine(t, &pool, false)
	pre := newPre(t, newLinker(t, e), compile(t, e, guestWAT))
	var stores []*wasmtime.Store
	defer func() {
		for _, s := range stores {
			s.Close()
		}
	}()
	var err error
	for range 3 {
		s := wasmtime.NewStore(e)
		stores = append(stores, s)
		if _, err = pre.Instantiate(s); err != nil {
			break
		}
	}
	t.Logf("memory pool exhaustion error: %v", err)
	if !IsPoolExhausted(err) {
		t.Fatalf("third instance with two memory slots: IsPoolExhausted(%v) = false", err)
	}
	if !strings.Contains(err.Error(), "maximum concurrent limit of 2 for memory stripe 0 reached") {
		t.Fatalf("wasmtime's pool limit message changed: %q", err)
	}
}

func TestMemoryLimits(t *testing.T) {
	pool := PoolConfig{TotalCoreInstances: 4, MaxMemoryBytes: 2 << 16} // two pages
	e := newEngine(t, &pool, false)
	l := newLinker(t, e)

	// Growing past MaxMemoryBytes fails inside the guest (-1), it does not trap.
	m := compile(t, e, `(module (memory 1)
	  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`)
	pre := newPre(t, l, m)
	s := wasmtime.NewStore(e)
	defer s.Close()
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, s, inst, "grow", int32(1)); got != 1 {
		t.Fatalf("grow to 2 pages = %d, want 1", got)
	}
	if got := call(t, s, inst, "grow", int32(1)); got != -1 {
		t.Fatalf("grow to 3 pages = %d, want -1", got)
	}

	// A store's own limiter still applies below the pool's limit.
	limited := wasmtime.NewStore(e)
	defer limited.Close()
	limited.Limiter(64<<10, -1, -1, -1, -1) // one page
	inst, err = pre.Instantiate(limited)
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, limited, inst, "grow", int32(1)); got != -1 {
		t.Fatalf("grow past the store limiter = %d, want -1", got)
	}

	// A module that needs more than MaxMemoryBytes up front is rejected
	// with an error, not a crash.
	wasm, err := wasmtime.Wat2Wasm(`(module (memory 3))`)
	if err != nil {
		t.Fatal(err)
	}
	big, err := wasmtime.NewModule(e, wasm)
	if err == nil {
		defer big.Close()
		_, err = NewInstancePre(l, big)
		if err == nil {
			var s2 = wasmtime.NewStore(e)
			defer s2.Close()
			_, err = newPre(t, l, big).Instantiate(s2)
		}
	}
	if err == nil {
		t.Fatal("a module with a 3-page minimum memory was accepted by a 2-page pool")
	}
	t.Logf("oversized module: %v", err)
}

func TestConcurrentInstantiate(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	pre := newPre(t, newLinker(t, e), compile(t, e, guestWAT))

	const workers = 16
	perWorker := scaled(300)
	deadline := time.Now().Add(30 * time.Second)
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := 0; i < perWorker && time.Now().Before(deadline); i++ {
				s := wasmtime.NewStore(e)
				inst, err := pre.Instantiate(s)
				if err != nil {
					s.Close()
					errs <- err
					return
				}
				f := inst.GetFunc(s, "dirty")
				v, err := f.Call(s)
				if err == nil && v.(int32) != 208043001 {
					err = errors.New("instance did not start fresh")
				}
				got, err2 := inst.GetFunc(s, "run").Call(s, int32(w))
				if err == nil && (err2 != nil || got.(int32) != int32(42+1+w)) {
					err = errors.Join(err2, errors.New("run returned a wrong value"))
				}
				s.Close()
				if err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if done.Load() == 0 {
		t.Fatal("no instantiation completed")
	}
	t.Logf("%d instantiations by %d goroutines", done.Load(), workers)
}

func TestRetireInstancePre(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	l := newLinker(t, e)
	m := compile(t, e, guestWAT)
	pre, err := NewInstancePre(l, m)
	if err != nil {
		t.Fatal(err)
	}

	// The pre-image holds its own references: the module and the linker
	// (with the Go host function registered in it) may go first.
	m.Close()
	l.Close()

	s := wasmtime.NewStore(e)
	defer s.Close()
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatalf("after closing module and linker: %v", err)
	}
	pre.Close()
	pre.Close() // idempotent

	if _, err := pre.Instantiate(s); !errors.Is(err, ErrClosed) {
		t.Fatalf("Instantiate after Close = %v, want ErrClosed", err)
	}
	// Instances created before Close keep working.
	if got := call(t, s, inst, "run", int32(8)); got != 50 {
		t.Fatalf("run = %d", got)
	}
}

// TestCloseWhileInstantiating retires a pre-image while goroutines are
// instantiating it: each call either succeeds or returns ErrClosed.
func TestCloseWhileInstantiating(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	pre, err := NewInstancePre(newLinker(t, e), compile(t, e, guestWAT))
	if err != nil {
		t.Fatal(err)
	}
	const workers = 8
	maxIter := scaled(2000)
	var started, ok atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range maxIter {
				started.Add(1)
				s := wasmtime.NewStore(e)
				inst, err := pre.Instantiate(s)
				if errors.Is(err, ErrClosed) {
					s.Close()
					return
				}
				if err == nil {
					_, err = inst.GetFunc(s, "run").Call(s, int32(1))
				}
				s.Close()
				if err != nil {
					errs <- err
					return
				}
				ok.Add(1)
			}
		})
	}
	for started.Load() < int64(workers) {
		// Close once every worker has begun; no sleeping, just yield.
		runtime.Gosched()
	}
	pre.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d instantiations before/around Close", ok.Load())
}

func TestLinkErrors(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	l := newLinker(t, e)

	// A missing import fails at NewInstancePre, like Linker.Instantiate.
	m := compile(t, e, `(module (import "env" "missing" (func)))`)
	if _, err := NewInstancePre(l, m); err == nil {
		t.Fatal("missing import accepted")
	} else {
		var werr *wasmtime.Error
		if !errors.As(err, &werr) {
			t.Fatalf("error %T is not a *wasmtime.Error", err)
		}
		t.Logf("missing import: %v", err)
	}

	// A store from another engine is refused before reaching wasmtime.
	pre := newPre(t, l, compile(t, e, guestWAT))
	other := newEngine(t, nil, false)
	s := wasmtime.NewStore(other)
	defer s.Close()
	if _, err := pre.Instantiate(s); !errors.Is(err, ErrEngineMismatch) {
		t.Fatalf("store of another engine: %v, want ErrEngineMismatch", err)
	}

	// Closed wasmtime-go objects are reported, not dereferenced.
	closed := compile(t, e, guestWAT)
	closed.Close()
	if _, err := NewInstancePre(l, closed); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed module: %v, want ErrClosed", err)
	}
}

// TestStartFunction covers the trap and panic paths of Instantiate, which
// mirror wasmtime-go's enterWasm.
func TestStartFunction(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	l := wasmtime.NewLinker(e)
	defer l.Close()
	mode := ""
	// FuncNew, not FuncWrap: wasmtime-go v39's FuncWrap trampoline trips
	// checkptr (enabled by -race) for a func() *Trap returning nil, with
	// any instantiation method.
	hook := wasmtime.NewFuncType(nil, nil)
	err := l.FuncNew("env", "hook", hook, func(*wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		switch mode {
		case "trap":
			return nil, wasmtime.NewTrap("host says no")
		case "panic":
			panic("host panicked")
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = l.FuncNew("env", "unreachable", wasmtime.NewFuncType(nil, []*wasmtime.ValType{wasmtime.NewValType(wasmtime.KindI32)}),
		func(*wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			if mode == "unreachable" {
				return []wasmtime.Val{wasmtime.ValI32(1)}, nil
			}
			return []wasmtime.Val{wasmtime.ValI32(0)}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	m := compile(t, e, `(module
	  (import "env" "hook" (func $hook))
	  (import "env" "unreachable" (func $unreachable (result i32)))
	  (global $ran (mut i32) (i32.const 0))
	  (func $start
	    (call $hook)
	    (if (call $unreachable) (then unreachable))
	    (global.set $ran (i32.const 1)))
	  (start $start)
	  (func (export "ran") (result i32) (global.get $ran)))`)
	pre := newPre(t, l, m)

	s := wasmtime.NewStore(e)
	defer s.Close()
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	if call(t, s, inst, "ran") != 1 {
		t.Fatal("start function did not run")
	}

	// A host trap in the start function fails instantiation with the same
	// error type Linker.Instantiate returns (wasmtime's C API reports a
	// host trap as a *wasmtime.Error, a wasm trap as a *wasmtime.Trap).
	mode = "trap"
	_, err = pre.Instantiate(s)
	_, want := l.Instantiate(s, m)
	if err == nil || want == nil || fmt.Sprintf("%T", err) != fmt.Sprintf("%T", want) ||
		!strings.Contains(err.Error(), "host says no") {
		t.Fatalf("trapping start function: %v (%T); Linker.Instantiate: %v (%T)", err, err, want, want)
	}

	// A wasm trap in the start function comes back as a *wasmtime.Trap.
	mode = "unreachable"
	_, err = pre.Instantiate(s)
	var trap *wasmtime.Trap
	if !errors.As(err, &trap) || trap.Code() == nil || *trap.Code() != wasmtime.UnreachableCodeReached {
		t.Fatalf("start function reaching unreachable: %v (%T), want *wasmtime.Trap", err, err)
	}

	mode = "panic"
	func() {
		defer func() {
			if r := recover(); r != "host panicked" {
				t.Fatalf("recovered %v, want the host function's panic value", r)
			}
		}()
		_, err := pre.Instantiate(s)
		t.Fatalf("Instantiate returned %v instead of panicking", err)
	}()

	// The panic was consumed: the store works normally afterwards.
	mode = ""
	inst, err = pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	if call(t, s, inst, "ran") != 1 {
		t.Fatal("start function did not run")
	}
}
