package wasmpool

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// callWAT exercises every outcome of a call: results, wasm traps, an
// epoch interrupt, host functions that return a trap, panic or re-enter
// wasm, and type mismatches.
const callWAT = `(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "host_trap" (func $host_trap))
  (import "env" "host_panic" (func $host_panic (param i32)))
  (import "env" "spinning" (func $spinning))
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\2a\00\00\00")
  (global (export "global") i32 (i32.const 1))
  (table (export "table") 1 funcref)
  (global $count (mut i32) (i32.const 0))

  (func (export "nop"))
  (func (export "id") (param i32) (result i32) (local.get 0))
  (func (export "neg") (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
  (func (export "count") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (global.get $count))
  (func (export "bump") (global.set $count (i32.add (global.get $count) (i32.const 1))))
  (func (export "set") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "sum8") (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.add (i32.add (i32.add (local.get 0) (i32.mul (local.get 1) (i32.const 10)))
                      (i32.add (i32.mul (local.get 2) (i32.const 100)) (i32.mul (local.get 3) (i32.const 1000))))
             (i32.add (i32.add (i32.mul (local.get 4) (i32.const 10000)) (i32.mul (local.get 5) (i32.const 100000)))
                      (i32.add (i32.mul (local.get 6) (i32.const 1000000)) (i32.mul (local.get 7) (i32.const 10000000))))))
  (func (export "sum9") (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 8)))
  (func (export "add") (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1)))
  (func (export "load") (result i32) (i32.load (i32.const 16)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "unreachable") (result i32) unreachable)
  (func (export "unreachable0") unreachable)
  (func (export "oob") (result i32) (i32.load (i32.const 70000)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (local.get 0)) (i32.const 1)))
  (func (export "host_trap") (result i32) (call $host_trap) (i32.const 1))
  (func (export "host_panic") (param i32) (result i32) (call $host_panic (local.get 0)) (i32.const 1))
  (func (export "host_panic0") (call $host_panic (i32.const 0)))
  (func (export "spin") (call $spinning) (loop $l (br $l)))
  (func (export "spin1") (param i32) (result i32) (call $spinning) (loop $l (br $l)) (i32.const 0))
  (func (export "reenter") (param i32) (result i32) (call $reenter (local.get 0)))
  (func (export "i64") (result i64) (i64.const 5))
  (func (export "f32") (result f32) (f32.const 1.5))
  (func (export "two") (result i32 i32) (i32.const 1) (i32.const 2))
  (func (export "takes_i64") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
)`

// callFixture is an engine (pooling, epoch interruption) with callWAT
// pre-instantiated.
type callFixture struct {
	e        *wasmtime.Engine
	pre      *InstancePre
	spinning chan struct{}
}

// hostMode says how a fixture defines its host functions.
type hostMode string

const (
	withFuncNew    hostMode = "FuncNew"    // wasmtime-go's Linker.FuncNew
	withDefineFunc hostMode = "DefineFunc" // this package's DefineFunc
)

// defineHost defines module.name in l as fn, the way mode says.
func defineHost(t testing.TB, l *wasmtime.Linker, mode hostMode, module, name string, params, results []wasmtime.ValKind, fn HostFunc) {
	t.Helper()
	var err error
	if mode == withDefineFunc {
		err = DefineFunc(l, module, name, params, results, fn)
	} else {
		err = defineFuncNew(l, module, name, params, results, fn)
	}
	if err != nil {
		t.Fatalf("defining %s.%s with %s: %v", module, name, mode, err)
	}
}

func kinds(k ...wasmtime.ValKind) []wasmtime.ValKind { return k }

const (
	i32 = wasmtime.KindI32
	i64 = wasmtime.KindI64
	f32 = wasmtime.KindF32
	f64 = wasmtime.KindF64
)

func newCallFixture(t testing.TB) *callFixture { return newCallFixtureWith(t, withFuncNew) }

func newCallFixtureWith(t testing.TB, mode hostMode) *callFixture {
	t.Helper()
	pool := testPool()
	fx := &callFixture{e: newEngine(t, &pool, true), spinning: make(chan struct{}, 1)}
	l := wasmtime.NewLinker(fx.e)
	t.Cleanup(l.Close)
	defineHost(t, l, mode, "env", "add", kinds(i32, i32), kinds(i32), func(_ any, _ *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		return []wasmtime.Val{wasmtime.ValI32(args[0].I32() + args[1].I32())}, nil
	})
	defineHost(t, l, mode, "env", "host_trap", nil, nil, func(any, *wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		return nil, wasmtime.NewTrap("host says no")
	})
	defineHost(t, l, mode, "env", "host_panic", kinds(i32), nil, func(_ any, _ *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		panic(fmt.Sprintf("host panic %d", args[0].I32()))
	})
	defineHost(t, l, mode, "env", "spinning", nil, nil, func(any, *wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		select {
		case fx.spinning <- struct{}{}:
		default:
		}
		return nil, nil
	})
	// reenter(x) calls back into the caller's instance with the fast path:
	// x >= 0 returns id(x+1) through CallI32 on the Caller, x < 0 calls
	// host_panic(-x) the same way, so the panic crosses two host frames.
	defineHost(t, l, mode, "env", "reenter", kinds(i32), kinds(i32), func(_ any, caller *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		x := args[0].I32()
		name, arg := "id", x+1
		if x < 0 {
			name, arg = "host_panic", -x
		}
		f := caller.GetExport(name).Func()
		v, err := CallI32(caller, f, arg)
		if err != nil {
			return nil, wasmtime.NewTrap("reenter: " + err.Error())
		}
		return []wasmtime.Val{wasmtime.ValI32(v)}, nil
	})
	fx.pre = newPre(t, l, compile(t, fx.e, callWAT))
	return fx
}

// instance returns a fresh store with a generous epoch deadline and an
// instance of callWAT in it; the store is closed at cleanup.
func (fx *callFixture) instance(t testing.TB) (*wasmtime.Store, *wasmtime.Instance) {
	t.Helper()
	s := wasmtime.NewStore(fx.e)
	t.Cleanup(s.Close)
	s.SetEpochDeadline(1 << 30)
	inst, err := fx.pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, inst
}

// outcome is everything observable about a call, for comparing the fast
// path with Func.Call.
type outcome struct {
	Result any    // int32, or nil
	Kind   string // "ok", "trap", "error", "other", or "panic"
	Code   string // trap code, if any
	Msg    string // error text or panic value
}

func (o outcome) String() string {
	msg := o.Msg
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return fmt.Sprintf("{%s result=%v code=%q msg=%q}", o.Kind, o.Result, o.Code, msg)
}

// errText is an error's text without the native backtrace that wasmtime
// appends when RUST_BACKTRACE is set, which differs with the Go frames
// below the call.
func errText(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\nStack backtrace:"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

func outcomeOf(result any, err error, panicked any) outcome {
	if panicked != nil {
		return outcome{Kind: "panic", Msg: fmt.Sprint(panicked)}
	}
	var trap *wasmtime.Trap
	var werr *wasmtime.Error
	switch {
	case err == nil:
		return outcome{Result: result, Kind: "ok"}
	case errors.As(err, &trap):
		o := outcome{Kind: "trap", Msg: errText(err)}
		if c := trap.Code(); c != nil {
			o.Code = fmt.Sprint(*c)
		}
		return o
	case errors.As(err, &werr):
		return outcome{Kind: "error", Msg: errText(err)}
	default:
		return outcome{Kind: "other", Msg: errText(err)}
	}
}

// callCase is one call: an export, i32 arguments, and whether it is
// called with CallI32 (one i32 result) or Call (no results).
type callCase struct {
	name   string
	args   []int32
	result bool
	epoch  bool // the call spins until the test advances the epoch
}

var equivalenceCases = []callCase{
	{"nop", nil, false, false},
	{"bump", nil, false, false},
	{"set", []int32{32, 7}, false, false},
	{"id", []int32{42}, true, false},
	{"id", []int32{-1}, true, false},
	{"neg", []int32{-2147483648}, true, false},
	{"count", nil, true, false},
	{"sum8", []int32{1, 2, 3, 4, 5, 6, 7, 8}, true, false},
	{"sum9", []int32{1, 2, 3, 4, 5, 6, 7, 8, 9}, true, false}, // more than MaxArgs: Func.Call
	{"add", []int32{40, 2}, true, false},                      // through a host function
	{"load", nil, true, false},
	{"reenter", []int32{41}, true, false}, // host function calls CallI32 on its Caller
	{"div", []int32{7, 2}, true, false},
	{"div", []int32{7, 0}, true, false},            // trap: integer divide by zero
	{"div", []int32{-2147483648, -1}, true, false}, // trap: integer overflow
	{"unreachable", nil, true, false},
	{"unreachable0", nil, false, false},
	{"oob", nil, true, false},
	{"recurse", []int32{0}, true, false}, // trap: stack overflow
	{"host_trap", nil, true, false},      // the C API reports a host trap as an error
	{"host_panic", []int32{7}, true, false},
	{"host_panic0", nil, false, false},
	{"reenter", []int32{-9}, true, false}, // a panic two host frames down
	{"spin", nil, false, true},            // epoch interrupt
	{"spin1", []int32{1}, true, true},
	{"id", nil, true, false},               // too few arguments
	{"takes_i64", []int32{1}, true, false}, // wrong argument type
	// A wrong number of results is an error on the fast path (wasmtime
	// checks it first) and not for Func.Call: see TestCallFastPathOnly.
}

// run makes the call with the fast path or with Func.Call, on a fresh
// instance, and reports what happened. It also checks that the store is
// usable afterwards and has no host panic left pending, which would
// otherwise surface in the next wasmtime-go call.
func (fx *callFixture) run(t *testing.T, c callCase, fast bool) outcome {
	t.Helper()
	s, inst := fx.instance(t)
	var f *wasmtime.Func
	if fast {
		var ok bool
		if f, ok = LookupFunc(s, inst, c.name); !ok {
			t.Fatalf("LookupFunc(%q) = false", c.name)
		}
	} else if f = inst.GetFunc(s, c.name); f == nil {
		t.Fatalf("GetFunc(%q) = nil", c.name)
	}
	var done chan struct{}
	if c.epoch {
		s.SetEpochDeadline(1)
		done = make(chan struct{})
		go func() {
			defer close(done)
			<-fx.spinning
			fx.e.IncrementEpoch()
		}()
	}
	var result any
	var err error
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		switch {
		case fast && c.result:
			var v int32
			if v, err = CallI32(s, f, c.args...); err == nil {
				result = v
			}
		case fast:
			err = Call(s, f, c.args...)
		default:
			args := make([]any, len(c.args))
			for i, a := range c.args {
				args[i] = a
			}
			result, err = f.Call(s, args...)
		}
	}()
	if done != nil {
		<-done
	}
	s.SetEpochDeadline(1 << 30)
	if v, err := inst.GetFunc(s, "id").Call(s, int32(5)); err != nil || v.(int32) != 5 {
		t.Fatalf("%s%v: store unusable afterwards: %v, %v", c.name, c.args, v, err)
	}
	return outcomeOf(result, err, panicked)
}

// TestCallMatchesFuncCall runs every case through CallI32/Call and
// through GetFunc + Func.Call and expects the same result, the same error
// type, trap code and text, or the same panic.
func TestCallMatchesFuncCall(t *testing.T) {
	if err := FastPathErr(); err != nil {
		t.Fatal(err)
	}
	fx := newCallFixture(t)
	for _, c := range equivalenceCases {
		t.Run(fmt.Sprintf("%s%v", c.name, c.args), func(t *testing.T) {
			fast, slow := fx.run(t, c, true), fx.run(t, c, false)
			t.Logf("%v", fast)
			if !c.result && slow.Kind == "ok" {
				// Func.Call returns nil for no results; Call has none.
				slow.Result = nil
			}
			if fast != slow {
				t.Fatalf("fast path: %v\nFunc.Call: %v", fast, slow)
			}
		})
	}
}

// TestCallOutcomes pins what the equivalence test compares, so that the
// two paths cannot agree on something wrong.
func TestCallOutcomes(t *testing.T) {
	fx := newCallFixture(t)
	for _, c := range []struct {
		c        callCase
		kind     string
		result   any
		code     string
		contains string
	}{
		{callCase{"id", []int32{42}, true, false}, "ok", int32(42), "", ""},
		{callCase{"sum8", []int32{1, 2, 3, 4, 5, 6, 7, 8}, true, false}, "ok", int32(87654321), "", ""},
		{callCase{"sum9", []int32{1, 2, 3, 4, 5, 6, 7, 8, 9}, true, false}, "ok", int32(10), "", ""},
		{callCase{"add", []int32{40, 2}, true, false}, "ok", int32(42), "", ""},
		{callCase{"load", nil, true, false}, "ok", int32(42), "", ""},
		{callCase{"reenter", []int32{41}, true, false}, "ok", int32(42), "", ""},
		{callCase{"nop", nil, false, false}, "ok", nil, "", ""},
		{callCase{"div", []int32{7, 0}, true, false}, "trap", nil, fmt.Sprint(wasmtime.IntegerDivisionByZero), "divide by zero"},
		{callCase{"unreachable", nil, true, false}, "trap", nil, fmt.Sprint(wasmtime.UnreachableCodeReached), "unreachable"},
		{callCase{"oob", nil, true, false}, "trap", nil, fmt.Sprint(wasmtime.MemoryOutOfBounds), "out of bounds"},
		{callCase{"recurse", []int32{0}, true, false}, "trap", nil, fmt.Sprint(wasmtime.StackOverflow), ""},
		{callCase{"spin", nil, false, true}, "trap", nil, fmt.Sprint(wasmtime.Interrupt), "interrupt"},
		{callCase{"host_trap", nil, true, false}, "error", nil, "", "host says no"},
		{callCase{"host_panic", []int32{7}, true, false}, "panic", nil, "", "host panic 7"},
		{callCase{"reenter", []int32{-9}, true, false}, "panic", nil, "", "host panic 9"},
		{callCase{"id", nil, true, false}, "error", nil, "", "expected 1 arguments, got 0"},
		{callCase{"takes_i64", []int32{1}, true, false}, "error", nil, "", "type mismatch"},
		{callCase{"two", nil, true, false}, "error", nil, "", "expected 2 results, got 1"},
	} {
		got := fx.run(t, c.c, true)
		if got.Kind != c.kind || got.Result != c.result || got.Code != c.code || !strings.Contains(got.Msg, c.contains) {
			t.Errorf("%s%v: got %v; want kind %s, result %v, code %q, message containing %q",
				c.c.name, c.c.args, got, c.kind, c.result, c.code, c.contains)
		}
	}
}

// TestCallFastPathOnly covers what differs from Func.Call by design.
func TestCallFastPathOnly(t *testing.T) {
	fx := newCallFixture(t)
	s, inst := fx.instance(t)
	get := func(name string) *wasmtime.Func {
		f, ok := LookupFunc(s, inst, name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		return f
	}
	// Call is for functions without results; wasmtime refuses before
	// running anything (Func.Call would return the value).
	if err := Call(s, get("count")); err == nil || !strings.Contains(err.Error(), "expected 1 results, got 0") {
		t.Fatalf("Call on a function with a result: %v", err)
	}
	if v, err := CallI32(s, get("count")); err != nil || v != 1 {
		t.Fatalf("count = %v, %v; want 1 (the refused call must not have run)", v, err)
	}
	var werr *wasmtime.Error
	for _, name := range []string{"nop", "two"} {
		if _, err := CallI32(s, get(name)); !errors.As(err, &werr) || !strings.Contains(err.Error(), "results") {
			t.Fatalf("CallI32(%s): %v, want a *wasmtime.Error about the results", name, err)
		}
	}
	// The fallback path fails too, after Func.Call has run the function.
	saved := callLayoutErr
	callLayoutErr = ErrLayout
	errCount, errNop, errTwo := Call(s, get("count")), func() error { _, err := CallI32(s, get("nop")); return err }(), func() error { _, err := CallI32(s, get("two")); return err }()
	callLayoutErr = saved
	for _, err := range []error{errCount, errNop, errTwo} {
		if !errors.Is(err, ErrResultType) {
			t.Fatalf("fallback with the wrong number of results: %v, want ErrResultType", err)
		}
	}
	// A result of another type: the function runs, CallI32 reports it.
	for _, name := range []string{"i64", "f32"} {
		if _, err := CallI32(s, get(name)); !errors.Is(err, ErrResultType) {
			t.Fatalf("CallI32(%s): %v, want ErrResultType", name, err)
		}
	}
	// Too many arguments: a *wasmtime.Error from wasmtime (Func.Call
	// returns a plain error of its own).
	if _, err := CallI32(s, get("id"), 1, 2); !errors.As(err, &werr) {
		t.Fatalf("CallI32 with too many arguments: %v", err)
	}
	if _, err := CallI32(s, nil); err == nil {
		t.Fatal("CallI32(nil) succeeded")
	}
	if err := Call(s, nil); err == nil {
		t.Fatal("Call(nil) succeeded")
	}
	// The returned Func is an ordinary wasmtime-go value.
	if v, err := get("id").Call(s, int32(3)); err != nil || v.(int32) != 3 {
		t.Fatalf("Func.Call on a looked-up Func: %v, %v", v, err)
	}
}

func TestLookup(t *testing.T) {
	fx := newCallFixture(t)
	s, inst := fx.instance(t)

	f, ok := LookupFunc(s, inst, "id")
	if !ok || f == nil {
		t.Fatal("LookupFunc(id) = false")
	}
	if funcVal(f) != funcVal(inst.GetFunc(s, "id")) {
		t.Fatalf("LookupFunc and GetFunc disagree: %+v vs %+v", funcVal(f), funcVal(inst.GetFunc(s, "id")))
	}
	m, ok := LookupMemory(s, inst, "memory")
	if !ok || m == nil {
		t.Fatal("LookupMemory(memory) = false")
	}
	want := inst.GetExport(s, "memory").Memory()
	if m.DataSize(s) != want.DataSize(s) || m.Data(s) != want.Data(s) || m.Size(s) != 1 {
		t.Fatalf("LookupMemory: size %d at %p, GetExport: size %d at %p", m.DataSize(s), m.Data(s), want.DataSize(s), want.Data(s))
	}
	if got := m.UnsafeData(s)[16]; got != 42 {
		t.Fatalf("memory[16] = %d", got)
	}
	// The memory works with the rest of wasmtime-go's API.
	if _, err := m.Grow(s, 1); err != nil || want.Size(s) != 2 {
		t.Fatalf("Grow: %v, size %d", err, want.Size(s))
	}

	for _, name := range []string{"missing", "", "memory", "global", "table", "id\x00", "ID", strings.Repeat("x", 1<<16)} {
		if f, ok := LookupFunc(s, inst, name); ok || f != nil {
			t.Errorf("LookupFunc(%.20q) = %v, %v", name, f, ok)
		}
	}
	for _, name := range []string{"missing", "", "id", "global", "table", "memory\x00"} {
		if m, ok := LookupMemory(s, inst, name); ok || m != nil {
			t.Errorf("LookupMemory(%.20q) = %v, %v", name, m, ok)
		}
	}

	// From inside a host function, with the Caller as the store.
	l := wasmtime.NewLinker(fx.e)
	defer l.Close()
	var inner int32
	var innerErr error
	err := l.FuncWrap("env", "probe", func(c *wasmtime.Caller) {
		m, ok := LookupMemory(c, inst, "memory")
		f, ok2 := LookupFunc(c, inst, "load")
		if !ok || !ok2 {
			innerErr = errors.New("lookup from a Caller failed")
			return
		}
		inner, innerErr = CallI32(c, f)
		inner += int32(m.UnsafeData(c)[16]) * 1000
	})
	if err != nil {
		t.Fatal(err)
	}
	probe := newPre(t, l, compile(t, fx.e, `(module (import "env" "probe" (func $p)) (func (export "run") (call $p)))`))
	pi, err := probe.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	run, _ := LookupFunc(s, pi, "run")
	if err := Call(s, run); err != nil || innerErr != nil || inner != 42042 {
		t.Fatalf("lookups and call from a host function: %v, %v, %d", err, innerErr, inner)
	}
}

// TestCallFallback disables the fast path, as a failed layout check
// would, and expects the same outcomes through wasmtime-go's public API.
func TestCallFallback(t *testing.T) {
	fx := newCallFixture(t)
	var want []outcome
	for _, c := range equivalenceCases {
		want = append(want, fx.run(t, c, true))
	}
	saved := callLayoutErr
	callLayoutErr = fmt.Errorf("%w: disabled by the test", ErrLayout)
	defer func() { callLayoutErr = saved }()
	if !errors.Is(FastPathErr(), ErrLayout) {
		t.Fatal("FastPathErr does not report the disabled fast path")
	}
	for i, c := range equivalenceCases {
		got := fx.run(t, c, true)
		w := want[i]
		if got != w {
			t.Errorf("%s%v: fallback %v, fast path %v", c.name, c.args, got, w)
		}
	}
	s, inst := fx.instance(t)
	if _, ok := LookupMemory(s, inst, "memory"); !ok {
		t.Fatal("fallback LookupMemory(memory) = false")
	}
	if _, ok := LookupMemory(s, inst, "id"); ok {
		t.Fatal("fallback LookupMemory(id) = true")
	}
	if _, ok := LookupFunc(s, inst, "memory"); ok {
		t.Fatal("fallback LookupFunc(memory) = true")
	}
	f, _ := LookupFunc(s, inst, "i64")
	if _, err := CallI32(s, f); !errors.Is(err, ErrResultType) {
		t.Fatalf("fallback CallI32(i64): %v", err)
	}
}

// TestCallAllocs checks that calls allocate nothing and lookups only the
// returned value: no Extern, FuncType or ValType, and so no finalizer.
func TestCallAllocs(t *testing.T) {
	if debugBuild {
		t.Skip("the debug build collects garbage on every handle read")
	}
	fx := newCallFixture(t)
	s, inst := fx.instance(t)
	id, _ := LookupFunc(s, inst, "id")
	sum8, _ := LookupFunc(s, inst, "sum8")
	nop, _ := LookupFunc(s, inst, "nop")
	set, _ := LookupFunc(s, inst, "set")
	for _, c := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"CallI32(id)", 0, func() { _, _ = CallI32(s, id, 123456) }},
		{"CallI32(sum8)", 0, func() { _, _ = CallI32(s, sum8, 1, 2, 3, 4, 5, 6, 7, 8) }},
		{"Call(nop)", 0, func() { _ = Call(s, nop) }},
		{"Call(set)", 0, func() { _ = Call(s, set, 64, 1) }},
		{"LookupFunc", 1, func() { _, _ = LookupFunc(s, inst, "id") }},
		{"LookupMemory", 1, func() { _, _ = LookupMemory(s, inst, "memory") }},
		{"LookupFunc(missing)", 0, func() { _, _ = LookupFunc(s, inst, "missing") }},
	} {
		if n := testing.AllocsPerRun(1000, c.f); n > c.max {
			t.Errorf("%s: %v allocations per run, want at most %v", c.name, n, c.max)
		}
	}
	// For scale: what the same work costs through wasmtime-go.
	t.Logf("GetFunc + Func.Call: %v allocations", testing.AllocsPerRun(1000, func() {
		_, _ = inst.GetFunc(s, "id").Call(s, int32(123456))
	}))
}

// TestCallConcurrent runs many stores at once, each calling through a
// host function and re-entering, for the race detector.
func TestCallConcurrent(t *testing.T) {
	fx := newCallFixture(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range scaled(200) {
				s := wasmtime.NewStore(fx.e)
				s.SetEpochDeadline(1 << 30)
				inst, err := fx.pre.Instantiate(s)
				if err != nil {
					s.Close()
					errs <- err
					return
				}
				add, _ := LookupFunc(s, inst, "add")
				re, _ := LookupFunc(s, inst, "reenter")
				x := int32(w*1000 + i)
				a, err1 := CallI32(s, add, x, 1)
				b, err2 := CallI32(s, re, x)
				s.Close()
				if err1 != nil || err2 != nil || a != x+1 || b != x+1 {
					errs <- fmt.Errorf("worker %d: add %d, %v; reenter %d, %v", w, a, err1, b, err2)
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
