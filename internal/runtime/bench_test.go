package runtime

import (
	"testing"
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
