package runtime

import (
	"testing"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/tracing"
)

// BenchmarkInvoke measures one request's life cycle in process: a new
// store, instantiation, the call, and teardown, for a minimal native
// handler (one host call).
func BenchmarkInvoke(b *testing.B) {
	e := newEngine(b)
	m := compile(b, e, wat(b, helloWAT))
	env := NewEnv("hello", nil, Limits{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := NewCall()
		c.Env = env
		if err := m.Invoke(c); err != nil {
			b.Fatal(err)
		}
		c.Release()
	}
}

// BenchmarkInvokeParallel is BenchmarkInvoke from GOMAXPROCS goroutines.
func BenchmarkInvokeParallel(b *testing.B) {
	e := newEngine(b)
	m := compile(b, e, wat(b, helloWAT))
	env := NewEnv("hello", nil, Limits{})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := NewCall()
			c.Env = env
			if err := m.Invoke(c); err != nil {
				b.Error(err)
				return
			}
			c.Release()
		}
	})
}

// BenchmarkInvokeTracing is BenchmarkInvoke of a guest that makes one KV
// read, untraced (off: Call.Trace nil, as on a node without tracing) and
// traced (on: a root span per request, as the gateway makes, and the
// instantiate, guest-run and kv.get spans under it, recorded in the
// in-memory ring). Compare allocs/op: off must equal an untraced node's.
func BenchmarkInvokeTracing(b *testing.B) {
	e := newEngine(b)
	m := compile(b, e, wat(b, kvGetOnceWAT))
	env := NewEnv("hello", nil, Limits{})
	env.KV = nopKV{}
	for _, on := range []bool{false, true} {
		name := "off"
		var p *tracing.Provider
		if on {
			name = "on"
			var err error
			if p, err = tracing.New(tracing.Config{Sample: 1, RingTraces: 256}); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c := NewCall()
				c.Env = env
				ctx, root := p.Start(nil, "wedge.request", tracing.KindServer)
				c.Trace = ctx
				if err := m.Invoke(c); err != nil {
					b.Fatal(err)
				}
				root.End()
				c.Release()
			}
		})
		p.Shutdown()
	}
}

// kvGetOnceWAT reads key "k" of its own namespace once and answers.
const kvGetOnceWAT = `(module
  (import "wedge_v1" "kv_get" (func $get (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "k")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (drop (call $get (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 64) (i32.const 64) (i32.const 0)))
    (i32.const 0)))`

// nopKV answers every read with "not found".
type nopKV struct{}

func (nopKV) Get(string, string) ([]byte, uint64, error) { return nil, 0, abi.ErrNotFound }
func (nopKV) Put(string, string, []byte, time.Duration, int64) (uint64, error) {
	return 0, abi.ErrUnsupported
}
func (nopKV) Delete(string, string, int64) error             { return abi.ErrUnsupported }
func (nopKV) Increment(string, string, int64) (int64, error) { return 0, abi.ErrUnsupported }
func (nopKV) List(string, string, string, int) ([]string, string, error) {
	return nil, "", abi.ErrUnsupported
}
