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
