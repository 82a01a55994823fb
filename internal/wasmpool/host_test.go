package wasmpool

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// TestHostMatchesFuncNew runs every call case of call_test.go with the
// host functions defined by DefineFunc and by Linker.FuncNew, both called
// through CallI32/Call, and expects the same outcomes, panics included.
func TestHostMatchesFuncNew(t *testing.T) {
	if err := hostLayoutErr; err != nil {
		t.Fatal(err)
	}
	viaFuncNew, viaDefine := newCallFixtureWith(t, withFuncNew), newCallFixtureWith(t, withDefineFunc)
	for _, c := range equivalenceCases {
		t.Run(fmt.Sprintf("%s%v", c.name, c.args), func(t *testing.T) {
			want, got := viaFuncNew.run(t, c, true), viaDefine.run(t, c, true)
			if got != want {
				t.Fatalf("DefineFunc: %v\nFuncNew:    %v", got, want)
			}
		})
	}
	if n := framesInUse(); n != 0 {
		t.Fatalf("%d frames still in use", n)
	}
}

// valuesWAT passes every supported kind through a host function "echo"
// that returns its arguments transformed, and exports wrappers.
const valuesWAT = `(module
  (import "env" "echo" (func $echo (param i32 i64 f32 f64) (result f64 f32 i64 i32)))
  (import "env" "none" (func $none))
  (func (export "echo") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    (call $echo (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "none") (call $none)))`

// TestHostValues checks that every kind crosses the raw calling
// convention unchanged in both directions, edge values included, with the
// same results as Linker.FuncNew.
func TestHostValues(t *testing.T) {
	echo := func(_ any, _ *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		return []wasmtime.Val{
			wasmtime.ValF64(a[3].F64()),
			wasmtime.ValF32(a[2].F32()),
			wasmtime.ValI64(a[1].I64() ^ 0x5555),
			wasmtime.ValI32(a[0].I32() ^ 0x5555),
		}, nil
	}
	none := func(any, *wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) { return nil, nil }
	run := func(mode hostMode) [][]string {
		pool := testPool()
		e := newEngine(t, &pool, false)
		l := wasmtime.NewLinker(e)
		defer l.Close()
		defineHost(t, l, mode, "env", "echo", kinds(i32, i64, f32, f64), kinds(f64, f32, i64, i32), echo)
		defineHost(t, l, mode, "env", "none", nil, nil, none)
		pre := newPre(t, l, compile(t, e, valuesWAT))
		s := wasmtime.NewStore(e)
		defer s.Close()
		inst, err := pre.Instantiate(s)
		if err != nil {
			t.Fatal(err)
		}
		nan32 := math.Float32frombits(0x7fc01234)
		nan64 := math.Float64frombits(0x7ff8000000001234)
		var out [][]string
		for _, args := range [][]any{
			{int32(0), int64(0), float32(0), float64(0)},
			{int32(-1), int64(-1), float32(-1.5), float64(-2.25)},
			{int32(math.MinInt32), int64(math.MinInt64), float32(math.Inf(-1)), math.Inf(1)},
			{int32(math.MaxInt32), int64(math.MaxInt64), float32(math.SmallestNonzeroFloat32), math.MaxFloat64},
			{int32(300), int64(1 << 40), nan32, nan64},
			{int32(7), int64(-7), float32(math.Copysign(0, -1)), math.Copysign(0, -1)},
		} {
			v, err := inst.GetFunc(s, "echo").Call(s, args...)
			if err != nil {
				t.Fatalf("%s: echo%v: %v", mode, args, err)
			}
			var row []string
			for _, r := range v.([]wasmtime.Val) {
				switch r.Kind() {
				case wasmtime.KindF32:
					row = append(row, fmt.Sprintf("f32:%#x", math.Float32bits(r.F32())))
				case wasmtime.KindF64:
					row = append(row, fmt.Sprintf("f64:%#x", math.Float64bits(r.F64())))
				default:
					row = append(row, fmt.Sprintf("%v:%v", r.Kind(), r.Get()))
				}
			}
			out = append(out, row)
		}
		if _, err := inst.GetFunc(s, "none").Call(s); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want, got := run(withFuncNew), run(withDefineFunc)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("DefineFunc: %v\nFuncNew:    %v", got, want)
	}
	t.Logf("%v", got)
	if !strings.Contains(fmt.Sprint(got), "f32:0x7fc01234") || !strings.Contains(fmt.Sprint(got), "i32:-2147461803") {
		t.Fatalf("unexpected values: %v", got)
	}
}

// hostCounts counts the calls of DefineFunc host functions that found a
// frame and those that did not, while the test runs.
func hostCounts(t *testing.T) (framed, unframed *atomic.Int64) {
	framed, unframed = new(atomic.Int64), new(atomic.Int64)
	testHookHostCall = func(f bool) {
		if f {
			framed.Add(1)
		} else {
			unframed.Add(1)
		}
	}
	t.Cleanup(func() { testHookHostCall = nil })
	return framed, unframed
}

// dataWAT calls env.tag, which returns a number identifying the store's
// data, from an export and from the start function.
const dataWAT = `(module
  (import "env" "tag" (func $tag (result i32)))
  (import "env" "boom" (func $boom (param i32)))
  (global $start (mut i32) (i32.const 0))
  (func $init (global.set $start (call $tag)))
  (start $init)
  (func (export "tag") (result i32) (call $tag))
  (func (export "start_tag") (result i32) (global.get $start))
  (func (export "boom") (param i32) (call $boom (local.get 0))))`

type storeTag struct{ n int32 }

// dataLinker defines env.tag (the storeTag of the store's data, -1 if
// none) and env.boom (panics with its argument) with mode.
func dataLinker(t testing.TB, e *wasmtime.Engine, mode hostMode) *wasmtime.Linker {
	l := wasmtime.NewLinker(e)
	t.Cleanup(l.Close)
	defineHost(t, l, mode, "env", "tag", nil, kinds(i32), func(data any, _ *wasmtime.Caller, _ []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		if tag, ok := data.(*storeTag); ok {
			return []wasmtime.Val{wasmtime.ValI32(tag.n)}, nil
		}
		return []wasmtime.Val{wasmtime.ValI32(-1)}, nil
	})
	defineHost(t, l, mode, "env", "boom", kinds(i32), nil, func(_ any, _ *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		panic(fmt.Sprintf("boom %d", a[0].I32()))
	})
	return l
}

// TestHostData checks that host functions get the store's data, through
// the frame when wasm was entered through this package and through
// Caller.Data otherwise.
func TestHostData(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	l := dataLinker(t, e, withDefineFunc)
	m := compile(t, e, dataWAT)
	pre := newPre(t, l, m)
	framed, unframed := hostCounts(t)

	s := wasmtime.NewStoreWithData(e, &storeTag{41})
	defer s.Close()
	inst, err := pre.Instantiate(s) // start function: framed
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := LookupFunc(s, inst, "tag")
	startTag, _ := LookupFunc(s, inst, "start_tag")
	if v, err := CallI32(s, tag); err != nil || v != 41 {
		t.Fatalf("tag through CallI32 = %d, %v", v, err)
	}
	if v, err := CallI32(s, startTag); err != nil || v != 41 {
		t.Fatalf("tag in the start function through Instantiate = %d, %v", v, err)
	}
	if framed.Load() != 2 || unframed.Load() != 0 {
		t.Fatalf("framed %d, unframed %d host calls; want 2, 0", framed.Load(), unframed.Load())
	}
	// Entered through wasmtime-go: no frame, same data.
	if v, err := tag.Call(s); err != nil || v.(int32) != 41 {
		t.Fatalf("tag through Func.Call = %v, %v", v, err)
	}
	inst2, err := l.Instantiate(s, m)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := inst2.GetFunc(s, "start_tag").Call(s); err != nil || v.(int32) != 41 {
		t.Fatalf("tag in the start function through Linker.Instantiate = %v, %v", v, err)
	}
	if framed.Load() != 2 || unframed.Load() != 2 {
		t.Fatalf("framed %d, unframed %d host calls; want 2, 2", framed.Load(), unframed.Load())
	}
	// A store without data.
	s2 := wasmtime.NewStore(e)
	defer s2.Close()
	inst3, err := pre.Instantiate(s2)
	if err != nil {
		t.Fatal(err)
	}
	tag3, _ := LookupFunc(s2, inst3, "tag")
	if v, err := CallI32(s2, tag3); err != nil || v != -1 {
		t.Fatalf("tag of a store without data = %d, %v", v, err)
	}
}

// TestHostDataAcrossStores has a host function of one store call into
// another store, through this package and through wasmtime-go: each host
// call must see its own store's data.
func TestHostDataAcrossStores(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	l := dataLinker(t, e, withDefineFunc)
	inner := newPre(t, l, compile(t, e, dataWAT))

	b := wasmtime.NewStoreWithData(e, &storeTag{2})
	defer b.Close()
	binst, err := inner.Instantiate(b)
	if err != nil {
		t.Fatal(err)
	}
	btag, _ := LookupFunc(b, binst, "tag")

	// env.cross(mode) is a host function of store a that returns
	// 100*tag(b) + its own tag, calling into b with CallI32 (mode 0) or
	// Func.Call (mode 1), and then its own store's tag through the Caller.
	var sawData []any
	defineHost(t, l, withDefineFunc, "env", "cross", kinds(i32), kinds(i32), func(data any, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		sawData = append(sawData, data)
		var bv int32
		if a[0].I32() == 0 {
			v, err := CallI32(b, btag)
			if err != nil {
				return nil, wasmtime.NewTrap(err.Error())
			}
			bv = v
		} else {
			v, err := btag.Call(b)
			if err != nil {
				return nil, wasmtime.NewTrap(err.Error())
			}
			bv = v.(int32)
		}
		own, err := CallI32(caller, caller.GetExport("tag").Func())
		if err != nil {
			return nil, wasmtime.NewTrap(err.Error())
		}
		return []wasmtime.Val{wasmtime.ValI32(100*bv + own)}, nil
	})
	outer := newPre(t, l, compile(t, e, `(module
	  (import "env" "cross" (func $cross (param i32) (result i32)))
	  (import "env" "tag" (func $tag (result i32)))
	  (func (export "tag") (result i32) (call $tag))
	  (func (export "cross") (param i32) (result i32) (call $cross (local.get 0))))`))
	a := wasmtime.NewStoreWithData(e, &storeTag{1})
	defer a.Close()
	ainst, err := outer.Instantiate(a)
	if err != nil {
		t.Fatal(err)
	}
	cross, _ := LookupFunc(a, ainst, "cross")
	for mode := int32(0); mode < 2; mode++ {
		if v, err := CallI32(a, cross, mode); err != nil || v != 201 {
			t.Fatalf("cross(%d) = %d, %v; want 201", mode, v, err)
		}
	}
	if len(sawData) != 2 || sawData[0].(*storeTag).n != 1 || sawData[1].(*storeTag).n != 1 {
		t.Fatalf("cross saw data %v", sawData)
	}
}

// TestHostPanics checks how a panicking DefineFunc host function surfaces:
// re-raised by CallI32, Call and Instantiate, as an error through
// wasmtime-go's entry points, and never left pending in the store.
func TestHostPanics(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	l := dataLinker(t, e, withDefineFunc)
	pre := newPre(t, l, compile(t, e, dataWAT))
	s := wasmtime.NewStoreWithData(e, &storeTag{5})
	defer s.Close()
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	boom, _ := LookupFunc(s, inst, "boom")
	tag, _ := LookupFunc(s, inst, "tag")
	catch := func(f func()) (r any) {
		defer func() { r = recover() }()
		f()
		return nil
	}
	if r := catch(func() { _ = Call(s, boom, 7) }); r != "boom 7" {
		t.Fatalf("Call: recovered %v, want boom 7", r)
	}
	// Nothing pending: both paths work afterwards.
	if v, err := CallI32(s, tag); err != nil || v != 5 {
		t.Fatalf("after a panic: tag = %d, %v", v, err)
	}
	if v, err := tag.Call(s); err != nil || v.(int32) != 5 {
		t.Fatalf("after a panic: Func.Call tag = %v, %v", v, err)
	}
	// Through wasmtime-go there is no frame: the call fails with a message
	// carrying the value, and nothing panics now or later.
	var r any
	var callErr error
	r = catch(func() { _, callErr = boom.Call(s, int32(8)) })
	if r != nil || callErr == nil || !strings.Contains(callErr.Error(), "env.boom panicked: boom 8") {
		t.Fatalf("Func.Call: recovered %v, error %v", r, callErr)
	}
	if v, err := tag.Call(s); err != nil || v.(int32) != 5 {
		t.Fatalf("after an unframed panic: Func.Call tag = %v, %v", v, err)
	}
	// In a start function, Instantiate re-raises it.
	l2 := dataLinker(t, e, withDefineFunc)
	startBoom := newPre(t, l2, compile(t, e, `(module (import "env" "boom" (func $b (param i32)))
	  (func $s (call $b (i32.const 9))) (start $s))`))
	if r := catch(func() { _, _ = startBoom.Instantiate(s) }); r != "boom 9" {
		t.Fatalf("Instantiate: recovered %v, want boom 9", r)
	}
	if n := framesInUse(); n != 0 {
		t.Fatalf("%d frames still in use", n)
	}
}

// TestHostMisbehaves covers host functions that break the contract the
// way wasmtime-go's FuncNew treats as a panic.
func TestHostMisbehaves(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	reused := wasmtime.NewTrap("first")
	for _, c := range []struct {
		name string
		fn   HostFunc
		want string
	}{
		{"too few results", func(any, *wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			return nil, nil
		}, "callback didn't produce the correct number of results"},
		{"too many results", func(any, *wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			return []wasmtime.Val{wasmtime.ValI32(1), wasmtime.ValI32(2)}, nil
		}, "callback didn't produce the correct number of results"},
		{"wrong kind", func(any, *wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			return []wasmtime.Val{wasmtime.ValI64(1)}, nil
		}, "callback produced wrong type of result"},
		{"trap returned twice", func(any, *wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			return nil, reused
		}, "returned an already-returned trap"},
		{"zero Val", func(any, *wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			return []wasmtime.Val{{}}, nil // claims to be an i32, holds none
		}, "interface conversion"},
	} {
		t.Run(c.name, func(t *testing.T) {
			modes := []hostMode{withFuncNew, withDefineFunc}
			if c.name == "trap returned twice" || c.name == "zero Val" {
				// wasmtime-go's own trampoline lets these panics escape
				// through wasmtime's frames instead of recovering them.
				modes = modes[1:]
			}
			for _, mode := range modes {
				l := wasmtime.NewLinker(e)
				defer l.Close()
				defineHost(t, l, mode, "env", "f", nil, kinds(i32), c.fn)
				pre := newPre(t, l, compile(t, e, `(module (import "env" "f" (func $f (result i32)))
				  (func (export "f") (result i32) (call $f)))`))
				s := wasmtime.NewStore(e)
				defer s.Close()
				inst, err := pre.Instantiate(s)
				if err != nil {
					t.Fatal(err)
				}
				f, _ := LookupFunc(s, inst, "f")
				if c.name == "trap returned twice" {
					// The first return hands the trap to wasmtime.
					if _, err := CallI32(s, f); err == nil || !strings.Contains(err.Error(), "first") {
						t.Fatalf("%s: first return: %v", mode, err)
					}
				}
				var r any
				func() {
					defer func() { r = recover() }()
					_, _ = CallI32(s, f)
				}()
				if r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Fatalf("%s: recovered %v, want a panic with %q", mode, r, c.want)
				}
			}
		})
	}
}

// TestHostConcurrent runs many stores at once, each with its own data,
// calling DefineFunc host functions directly and through re-entry.
func TestHostConcurrent(t *testing.T) {
	fx := newCallFixtureWith(t, withDefineFunc)
	l := dataLinker(t, fx.e, withDefineFunc)
	pre := newPre(t, l, compile(t, fx.e, dataWAT))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range scaled(200) {
				n := int32(w*1000 + i)
				s := wasmtime.NewStoreWithData(fx.e, &storeTag{n})
				s.SetEpochDeadline(1 << 30)
				err := func() error {
					defer s.Close()
					inst, err := pre.Instantiate(s)
					if err != nil {
						return err
					}
					tag, _ := LookupFunc(s, inst, "tag")
					start, _ := LookupFunc(s, inst, "start_tag")
					a, err1 := CallI32(s, tag)
					b, err2 := CallI32(s, start)
					cinst, err := fx.pre.Instantiate(s)
					if err != nil {
						return err
					}
					re, _ := LookupFunc(s, cinst, "reenter")
					c, err3 := CallI32(s, re, n)
					if err := errors.Join(err1, err2, err3); err != nil || a != n || b != n || c != n+1 {
						return fmt.Errorf("store %d: tag %d, start tag %d, reenter %d: %v", n, a, b, c, err)
					}
					return nil
				}()
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHostFramesExhausted takes every frame slot and checks that calls
// still work without one, as documented.
func TestHostFramesExhausted(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	pre := newPre(t, dataLinker(t, e, withDefineFunc), compile(t, e, dataWAT))
	s := wasmtime.NewStoreWithData(e, &storeTag{3})
	defer s.Close()
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := LookupFunc(s, inst, "tag")
	boom, _ := LookupFunc(s, inst, "boom")
	framed, unframed := hostCounts(t)
	var taken []int
	for i := range frames {
		if frames[i].inUse.CompareAndSwap(false, true) {
			taken = append(taken, i)
		}
	}
	defer func() {
		for _, i := range taken {
			frames[i].inUse.Store(false)
		}
	}()
	if v, err := CallI32(s, tag); err != nil || v != 3 {
		t.Fatalf("tag without a frame = %d, %v", v, err)
	}
	if err := Call(s, boom, 4); err == nil || !strings.Contains(err.Error(), "boom 4") {
		t.Fatalf("boom without a frame: %v", err)
	}
	if framed.Load() != 0 || unframed.Load() != 2 {
		t.Fatalf("framed %d, unframed %d", framed.Load(), unframed.Load())
	}
}

// TestDefineFuncErrors covers what DefineFunc refuses, and that a refused
// definition leaves nothing behind in the table.
func TestDefineFuncErrors(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	l := wasmtime.NewLinker(e)
	defer l.Close()
	nop := func(any, *wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) { return nil, nil }
	before := hosts.len()
	if err := DefineFunc(l, "env", "f", nil, nil, nop); err != nil {
		t.Fatal(err)
	}
	var werr *wasmtime.Error
	if err := DefineFunc(l, "env", "f", nil, nil, nop); !errors.As(err, &werr) {
		t.Fatalf("duplicate definition: %v, want a *wasmtime.Error", err)
	}
	if got := hosts.len(); got != before+1 {
		t.Fatalf("table holds %d entries after a refused definition, want %d", got, before+1)
	}
	many := make([]wasmtime.ValKind, 33)
	for _, c := range []struct {
		name            string
		params, results []wasmtime.ValKind
		fn              HostFunc
		module          string
	}{
		{"externref", kinds(wasmtime.KindExternref), nil, nop, "env"},
		{"funcref result", nil, kinds(wasmtime.KindFuncref), nop, "env"},
		{"unknown kind", kinds(wasmtime.ValKind(42)), nil, nop, "env"},
		{"33 parameters", many, nil, nop, "env"},
		{"nil function", nil, nil, nil, "env"},
		{"bad UTF-8", nil, nil, nop, "\xff"},
	} {
		if err := DefineFunc(l, c.module, c.name, c.params, c.results, c.fn); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if got := hosts.len(); got != before+1 {
		t.Fatalf("table holds %d entries, want %d", got, before+1)
	}
	closed := wasmtime.NewLinker(e)
	closed.Close()
	if err := DefineFunc(closed, "env", "g", nil, nil, nop); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed linker: %v", err)
	}
}

// TestHostTableReleased checks that wasmtime's finalizer releases a host
// function's table entry once no linker, InstancePre or store uses it.
func TestHostTableReleased(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	before := hosts.len()
	l := dataLinker(t, e, withDefineFunc)
	if got := hosts.len(); got != before+2 {
		t.Fatalf("%d entries after two definitions, want %d", got, before+2)
	}
	pre := newPre(t, l, compile(t, e, dataWAT))
	s := wasmtime.NewStore(e)
	if _, err := pre.Instantiate(s); err != nil {
		t.Fatal(err)
	}
	l.Close()
	pre.Close()
	if got := hosts.len(); got != before+2 {
		t.Fatalf("%d entries while a store still uses them, want %d", got, before+2)
	}
	s.Close()
	if got := hosts.len(); got != before {
		t.Fatalf("%d entries after everything is closed, want %d", got, before)
	}
	// Freed indexes are reused.
	slots := len(*hosts.entries.Load())
	l2 := dataLinker(t, e, withDefineFunc)
	defer l2.Close()
	if got := len(*hosts.entries.Load()); got != slots {
		t.Fatalf("table grew from %d to %d slots", slots, got)
	}
}

// TestHostFallback disables the fast path: DefineFunc then goes through
// Linker.FuncNew, with the same results.
func TestHostFallback(t *testing.T) {
	saved := hostLayoutErr
	hostLayoutErr = fmt.Errorf("%w: disabled by the test", ErrLayout)
	defer func() { hostLayoutErr = saved }()
	before := hosts.len()
	fx := newCallFixtureWith(t, withDefineFunc)
	if hosts.len() != before {
		t.Fatal("the fallback used the table")
	}
	ref := newCallFixtureWith(t, withFuncNew)
	for _, c := range equivalenceCases {
		if got, want := fx.run(t, c, true), ref.run(t, c, true); got != want {
			t.Errorf("%s%v: fallback %v, FuncNew %v", c.name, c.args, got, want)
		}
	}
}

// TestHostKinds pins that wasmtime-go's ValKind numbers the four kinds
// DefineFunc passes to C as the C API's wasm_valkind_t does (call.c checks
// the C side against the upstream header).
func TestHostKinds(t *testing.T) {
	for k, want := range map[wasmtime.ValKind]int{i32: 0, i64: 1, f32: 2, f64: 3} {
		if int(k) != want {
			t.Errorf("%v = %d, want %d", k, int(k), want)
		}
	}
}

// TestHostAllocs compares the garbage a host call leaves with FuncNew's.
func TestHostAllocs(t *testing.T) {
	if debugBuild {
		t.Skip("the debug build collects garbage on every handle read")
	}
	counts := map[hostMode]float64{}
	for _, mode := range []hostMode{withFuncNew, withDefineFunc} {
		fx := newCallFixtureWith(t, mode)
		s, inst := fx.instance(t)
		add, _ := LookupFunc(s, inst, "add")
		counts[mode] = testing.AllocsPerRun(1000, func() { _, _ = CallI32(s, add, 1000, 2000) })
	}
	t.Logf("allocations per host call: %v", counts)
	if counts[withDefineFunc] > counts[withFuncNew] {
		t.Fatalf("DefineFunc allocates more than FuncNew: %v", counts)
	}
}

// TestMemoryData compares MemoryData with Memory.UnsafeData, from the
// store and from a host function's Caller.
func TestMemoryData(t *testing.T) {
	fx := newCallFixture(t)
	s, inst := fx.instance(t)
	m, _ := LookupMemory(s, inst, "memory")
	got, want := MemoryData(s, m), m.UnsafeData(s)
	if len(got) != len(want) || &got[0] != &want[0] || got[16] != 42 {
		t.Fatalf("MemoryData: %d bytes at %p, UnsafeData: %d bytes at %p", len(got), &got[0], len(want), &want[0])
	}
	if _, err := m.Grow(s, 2); err != nil {
		t.Fatal(err)
	}
	if got := MemoryData(s, m); len(got) != 3<<16 {
		t.Fatalf("after Grow: %d bytes", len(got))
	}
	l := wasmtime.NewLinker(fx.e)
	defer l.Close()
	var fromCaller int
	defineHost(t, l, withDefineFunc, "env", "probe", nil, nil, func(_ any, c *wasmtime.Caller, _ []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		fromCaller = len(MemoryData(c, m))
		return nil, nil
	})
	probe := newPre(t, l, compile(t, fx.e, `(module (import "env" "probe" (func $p)) (func (export "run") (call $p)))`))
	pi, err := probe.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	run, _ := LookupFunc(s, pi, "run")
	if err := Call(s, run); err != nil || fromCaller != 3<<16 {
		t.Fatalf("MemoryData from a Caller: %d bytes, %v", fromCaller, err)
	}
}

func framesInUse() int {
	n := 0
	for i := range frames {
		if frames[i].inUse.Load() {
			n++
		}
	}
	return n
}
