package wasmpool

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// minimalWAT is the smallest module that still looks like a function: an
// exported memory and one exported function.
const minimalWAT = `(module
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32) (local.get 0)))`

// BenchmarkInstantiate measures one request's worth of instance life
// cycle: new store, epoch deadline, instantiate, look up and call the
// export, close the store. The engine is configured as the runtime's is
// (epoch interruption, copy-on-write memory images).
//
//	default-linker  default allocator, Linker.Instantiate
//	pooling-linker  pooling allocator (DefaultPoolConfig), Linker.Instantiate
//	pooling-pre     pooling allocator (DefaultPoolConfig), InstancePre.Instantiate
func BenchmarkInstantiate(b *testing.B) {
	benchModes(b, func(b *testing.B, e *wasmtime.Engine, instantiate instantiateFunc) {
		for b.Loop() {
			s := wasmtime.NewStore(e)
			s.SetEpochDeadline(1 << 20)
			inst, err := instantiate(s)
			if err != nil {
				b.Fatal(err)
			}
			if v, err := inst.GetFunc(s, "run").Call(s, int32(1)); err != nil || v.(int32) <= 0 {
				b.Fatal(v, err)
			}
			s.Close()
		}
	})
}

// BenchmarkInstantiateOnly leaves out the export lookup and the call, whose
// cost (mostly wasmtime-go's per-call allocations and finalizers) does not
// depend on how the instance was made: new store, instantiate, close.
func BenchmarkInstantiateOnly(b *testing.B) {
	benchModes(b, func(b *testing.B, e *wasmtime.Engine, instantiate instantiateFunc) {
		for b.Loop() {
			s := wasmtime.NewStore(e)
			if _, err := instantiate(s); err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
}

type instantiateFunc func(wasmtime.Storelike) (*wasmtime.Instance, error)

// benchModes runs body for each module and each way of instantiating it.
func benchModes(b *testing.B, body func(*testing.B, *wasmtime.Engine, instantiateFunc)) {
	pool := DefaultPoolConfig()
	for _, mod := range []struct{ name, wat string }{
		{"minimal", minimalWAT},
		{"guest", guestWAT},           // host import, data segment, global
		{"imports40", importsWAT(40)}, // as many host imports as a WASI guest
	} {
		for _, mode := range []string{"default-linker", "pooling-linker", "pooling-pre"} {
			b.Run(mod.name+"/"+mode, func(b *testing.B) {
				var e *wasmtime.Engine
				if mode == "default-linker" {
					e = newEngine(b, nil, true)
				} else {
					e = newEngine(b, &pool, true)
				}
				l := newLinker(b, e)
				defineNops(b, l, 40)
				m := compile(b, e, mod.wat)
				instantiate := func(s wasmtime.Storelike) (*wasmtime.Instance, error) { return l.Instantiate(s, m) }
				if mode == "pooling-pre" {
					instantiate = newPre(b, l, m).Instantiate
				}
				b.ReportAllocs()
				body(b, e, instantiate)
			})
		}
	}
}

// BenchmarkInstantiateParallel is pooling-pre on every available core,
// showing how the shared pool and InstancePre scale.
func BenchmarkInstantiateParallel(b *testing.B) {
	pool := DefaultPoolConfig()
	e := newEngine(b, &pool, true)
	pre := newPre(b, newLinker(b, e), compile(b, e, guestWAT))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s := wasmtime.NewStore(e)
			s.SetEpochDeadline(1 << 20)
			inst, err := pre.Instantiate(s)
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := inst.GetFunc(s, "run").Call(s, int32(1)); err != nil {
				b.Error(err)
				return
			}
			s.Close()
		}
	})
}

// importsWAT returns a module importing n host functions env.nop<i>, the
// way a WASI guest imports a few dozen, and calling the first from "run".
func importsWAT(n int) string {
	var sb strings.Builder
	sb.WriteString("(module\n")
	for i := range n {
		fmt.Fprintf(&sb, "  (import \"env\" \"nop%d\" (func $nop%d (param i32) (result i32)))\n", i, i)
	}
	sb.WriteString(`  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32) (call $nop0 (local.get 0))))`)
	return sb.String()
}

// defineNops defines env.nop0 .. env.nop<n-1> as store-independent host
// functions returning their argument.
func defineNops(b *testing.B, l *wasmtime.Linker, n int) {
	i32 := wasmtime.NewValType(wasmtime.KindI32)
	ty := wasmtime.NewFuncType([]*wasmtime.ValType{i32}, []*wasmtime.ValType{i32})
	for i := range n {
		err := l.FuncNew("env", fmt.Sprintf("nop%d", i), ty, func(_ *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			return args, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequest is one request's instance life cycle as the runtime
// runs it, on the pooling allocator with an InstancePre: new store with
// data, epoch deadline, instantiate, look up the exported memory and the
// entry point, call it, close the store. It compares the call paths:
//
//	wasmtime-go       GetExport("memory").Memory(), GetFunc, Func.Call
//	fast              LookupMemory, LookupFunc, CallI32
//	fast+DefineFunc   the same, with the host function defined by
//	                  DefineFunc instead of Linker.FuncNew
//
// "minimal" is a function that returns its argument; "guest" calls one
// host function, which reads the store's data, as the runtime's do.
func BenchmarkRequest(b *testing.B) {
	for _, mod := range []struct{ name, wat string }{
		{"minimal", minimalWAT},
		{"guest", guestWAT},
	} {
		for _, mode := range []string{"wasmtime-go", "fast", "fast+DefineFunc"} {
			if mod.name == "minimal" && mode == "fast+DefineFunc" {
				continue // no host function
			}
			b.Run(mod.name+"/"+mode, func(b *testing.B) {
				pool := DefaultPoolConfig()
				e := newEngine(b, &pool, true)
				hosts := withFuncNew
				if mode == "fast+DefineFunc" {
					hosts = withDefineFunc
				}
				pre := newPre(b, benchLinker(b, e, hosts), compile(b, e, mod.wat))
				fast := mode != "wasmtime-go"
				data := &storeTag{1}
				b.ReportAllocs()
				cpu := startCPU()
				defer cpu.report(b)
				for b.Loop() {
					s := wasmtime.NewStoreWithData(e, data)
					s.SetEpochDeadline(1 << 20)
					inst, err := pre.Instantiate(s)
					if err != nil {
						b.Fatal(err)
					}
					var v int32
					if fast {
						_, okm := LookupMemory(s, inst, "memory")
						f, okf := LookupFunc(s, inst, "run")
						if !okm || !okf {
							b.Fatal("missing exports")
						}
						v, err = CallI32(s, f, 1)
					} else {
						if inst.GetExport(s, "memory").Memory() == nil {
							b.Fatal("no memory")
						}
						var r any
						r, err = inst.GetFunc(s, "run").Call(s, int32(1))
						v, _ = r.(int32)
					}
					if err != nil || v <= 0 {
						b.Fatal(v, err)
					}
					s.Close()
				}
			})
		}
	}
}

// benchLinker defines env.add for guestWAT the way mode says; like the
// runtime's host functions it fetches the store's data.
func benchLinker(b *testing.B, e *wasmtime.Engine, mode hostMode) *wasmtime.Linker {
	l := wasmtime.NewLinker(e)
	b.Cleanup(l.Close)
	defineHost(b, l, mode, "env", "add", kinds(i32, i32), kinds(i32), func(data any, _ *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		if data == nil {
			return nil, wasmtime.NewTrap("no data")
		}
		return []wasmtime.Val{wasmtime.ValI32(args[0].I32() + args[1].I32())}, nil
	})
	return l
}

// BenchmarkCallOnly is the call alone, repeated on one instance: the
// per-call cost of each path without instantiation and store teardown.
// "state" runs wasm only; "host" calls one host function (env.add) as
// well, defined with Linker.FuncNew or DefineFunc.
func BenchmarkCallOnly(b *testing.B) {
	pool := DefaultPoolConfig()
	e := newEngine(b, &pool, true)
	setup := func(mode hostMode) (*wasmtime.Store, *wasmtime.Instance) {
		pre := newPre(b, benchLinker(b, e, mode), compile(b, e, guestWAT))
		s := wasmtime.NewStoreWithData(e, &storeTag{1})
		b.Cleanup(s.Close)
		s.SetEpochDeadline(1 << 40)
		inst, err := pre.Instantiate(s)
		if err != nil {
			b.Fatal(err)
		}
		return s, inst
	}
	s, inst := setup(withFuncNew)
	sd, instd := setup(withDefineFunc)
	cached := func(s *wasmtime.Store, inst *wasmtime.Instance, name string, args ...int32) func() (int32, error) {
		f, _ := LookupFunc(s, inst, name)
		return func() (int32, error) { return CallI32(s, f, args...) }
	}
	for _, c := range []struct {
		name string
		f    func() (int32, error)
	}{
		{"state/Func.Call", func() (int32, error) {
			v, err := inst.GetFunc(s, "state").Call(s)
			r, _ := v.(int32)
			return r, err
		}},
		{"state/LookupFunc+CallI32", func() (int32, error) {
			f, _ := LookupFunc(s, inst, "state")
			return CallI32(s, f)
		}},
		{"state/CallI32", cached(s, inst, "state")},
		{"host/Func.Call", func() (int32, error) {
			v, err := inst.GetFunc(s, "run").Call(s, int32(1))
			r, _ := v.(int32)
			return r, err
		}},
		{"host/CallI32", cached(s, inst, "run", 1)},
		{"host/CallI32+DefineFunc", cached(sd, instd, "run", 1)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU()
			defer cpu.report(b)
			for b.Loop() {
				if v, err := c.f(); err != nil || v <= 0 {
					b.Fatal(v, err)
				}
			}
		})
	}
}
