package wasmpool

import (
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// guestWAT is the module most tests run. It imports one host function,
// exports its memory, has a data segment and a mutable global, so that a
// fresh instance has a known initial state.
const guestWAT = `(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (memory (export "memory") 1 4)
  (data (i32.const 16) "\2a\00\00\00")
  (global $g (mut i32) (i32.const 7))

  ;; run(x) = add(x, mem[16]) through the host: 42 + x on a fresh instance.
  (func (export "run") (param $x i32) (result i32)
    (call $add (local.get $x) (i32.load (i32.const 16))))

  ;; state() = g*1000000 + mem[16]*1000 + mem[60000] + memory.size*100000000
  ;; Fresh instance: 100000000 + 7042000 = 107042000.
  (func $state (export "state") (result i32)
    (i32.add
      (i32.add
        (i32.mul (global.get $g) (i32.const 1000000))
        (i32.mul (i32.load (i32.const 16)) (i32.const 1000)))
      (i32.add
        (i32.load (i32.const 60000))
        (i32.mul (memory.size) (i32.const 100000000)))))

  ;; dirty() changes every part of that state and returns the new state.
  (func (export "dirty") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (i32.store (i32.const 16) (i32.add (i32.load (i32.const 16)) (i32.const 1)))
    (i32.store (i32.const 60000) (i32.add (i32.load (i32.const 60000)) (i32.const 1)))
    (drop (memory.grow (i32.const 1)))
    (call $state))
)`

const freshState = 107042000

// testPool is small so that tests reserve little address space.
func testPool() PoolConfig {
	return PoolConfig{TotalCoreInstances: 64}
}

// newEngine builds an engine; pool nil means the default allocator.
func newEngine(t testing.TB, pool *PoolConfig, epochs bool) *wasmtime.Engine {
	t.Helper()
	cfg := wasmtime.NewConfig()
	cfg.SetEpochInterruption(epochs)
	cfg.SetMemoryInitCOWSet(true)
	if pool != nil {
		if err := EnablePooling(cfg, *pool); err != nil {
			t.Fatalf("EnablePooling: %v", err)
		}
	}
	e := wasmtime.NewEngineWithConfig(cfg)
	t.Cleanup(e.Close)
	return e
}

// newLinker defines env.add, store-independent, the way the runtime
// defines its host functions.
func newLinker(t testing.TB, e *wasmtime.Engine) *wasmtime.Linker {
	t.Helper()
	l := wasmtime.NewLinker(e)
	i32 := wasmtime.NewValType(wasmtime.KindI32)
	ty := wasmtime.NewFuncType([]*wasmtime.ValType{i32, i32}, []*wasmtime.ValType{i32})
	err := l.FuncNew("env", "add", ty, func(_ *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		return []wasmtime.Val{wasmtime.ValI32(args[0].I32() + args[1].I32())}, nil
	})
	if err != nil {
		t.Fatalf("FuncNew: %v", err)
	}
	t.Cleanup(l.Close)
	return l
}

func compile(t testing.TB, e *wasmtime.Engine, wat string) *wasmtime.Module {
	t.Helper()
	wasm, err := wasmtime.Wat2Wasm(wat)
	if err != nil {
		t.Fatalf("Wat2Wasm: %v", err)
	}
	m, err := wasmtime.NewModule(e, wasm)
	if err != nil {
		t.Fatalf("NewModule: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

func newPre(t testing.TB, l *wasmtime.Linker, m *wasmtime.Module) *InstancePre {
	t.Helper()
	pre, err := NewInstancePre(l, m)
	if err != nil {
		t.Fatalf("NewInstancePre: %v", err)
	}
	t.Cleanup(pre.Close)
	return pre
}

// call invokes an exported function returning one i32.
func call(t testing.TB, s *wasmtime.Store, inst *wasmtime.Instance, name string, args ...any) int32 {
	t.Helper()
	f := inst.GetFunc(s, name)
	if f == nil {
		t.Fatalf("no export %q", name)
	}
	v, err := f.Call(s, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v.(int32)
}

// scaled returns n, or a small fraction of it under the debug tag, where
// every wasmtime call runs a full GC.
func scaled(n int) int {
	if debugBuild {
		return max(n/50, 2)
	}
	return n
}
