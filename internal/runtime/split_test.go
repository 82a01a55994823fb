package runtime

import (
	"strings"
	"syscall"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/internal/js"
)

// splitWAT has what snapshot.Split moves (a memory with data segments at
// a non-zero minimum) and what it keeps (a mutable global with a
// non-zero initial value, a host import, a table); each request bumps
// the global and two bytes of memory and answers with what it read.
const splitWAT = `(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 3)
  (table 1 funcref)
  (global $g (mut i32) (i32.const 5))
  (data (i32.const 0x100) "seg-a")
  (data (i32.const 0x20000) "seg-b")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (i32.store8 (i32.const 0x104) (i32.add (i32.load8_u (i32.const 0x104)) (i32.const 1)))
    (i32.store8 (i32.const 0x20004) (i32.add (i32.load8_u (i32.const 0x20004)) (i32.const 1)))
    (i32.store8 (i32.const 0x105) (i32.add (i32.const 48) (global.get $g)))
    (drop (call $write (i32.const 0x100) (i32.const 6)))
    (drop (call $write (i32.const 0x20000) (i32.const 5)))
    (i32.const 0)))`

// TestSplitServesLikeWhole: a module with shared code is served split at
// first (its memory image, then its code linked to it) and answers as the
// whole module does, every request from the initial state; then it is
// compiled whole and keeps answering the same.
func TestSplitServesLikeWhole(t *testing.T) {
	wasm := wat(t, splitWAT)
	e, err := NewEngine(Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	whole := compile(t, e, wasm) // before ShareCode: whole
	e.ShareCode(wasm)
	other := wat(t, strings.Replace(splitWAT, "seg-a", "seg-x", 1))
	split := compile(t, e, other)
	if whole.Split() || !split.Split() {
		t.Fatalf("split: %v %v, want false true", whole.Split(), split.Split())
	}
	env := NewEnv("split", nil, Limits{})
	answer := func(m *Module) string {
		c, err := invoke(t, m, env, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release()
		return string(c.Output)
	}
	for i := 0; i < 3; i++ {
		if got := answer(whole); got != "seg-b6seg-c" {
			t.Fatalf("whole: %q", got)
		}
		if got := answer(split); got != "seg-y6seg-c" {
			t.Fatalf("split, request %d: %q, want %q", i, got, "seg-y6seg-c")
		}
	}
	split.WaitWhole()
	if split.Split() {
		t.Fatal("still split after its whole compilation")
	}
	if got := answer(split); got != "seg-y6seg-c" {
		t.Fatalf("compiled whole: %q", got)
	}
	if e.SharedCodeModules() != 1 {
		t.Fatalf("%d shared code modules", e.SharedCodeModules())
	}
}

// BenchmarkInstantiateJS times what the per-request path does before the
// guest runs, for the JavaScript hello's snapshot: a store, the
// instance(s), the store's teardown; whole (one module) and split (the
// function's memory image, then the engine's shared code linked to it).
func BenchmarkInstantiateJS(b *testing.B) {
	e, err := NewEngine(Config{SplitOnly: true, PoolInstances: 64})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	env := NewEnv("hello", nil, Limits{})
	snap, _, err := e.PreinitializeWith(js.Engine(), env, PreinitOptions{
		Trailer: js.Trailer([]byte(`export default { fetch() { return new Response("hi"); } };`))})
	if err != nil {
		b.Fatal(err)
	}
	whole := compile(b, e, snap)
	e.ShareCode(js.Engine())
	split := compile(b, e, snap)
	if whole.Split() || !split.Split() {
		b.Fatal("want one whole and one split module")
	}
	for _, m := range []*Module{whole, split} {
		name := map[bool]string{false: "whole", true: "split"}[m.Split()]
		b.Run(name, func(b *testing.B) {
			var r0, r1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
			for i := 0; i < b.N; i++ {
				store := wasmtime.NewStoreWithData(e.engine, &Call{})
				var err error
				if m.code != nil {
					_, err = m.pre.InstantiateLinked(store, m.code.mod, m.links)
				} else {
					_, err = m.pre.Instantiate(store)
				}
				if err != nil {
					b.Fatal(err)
				}
				store.Close()
			}
			syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
			cpu := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
			b.ReportMetric(float64(cpu)/1e3/float64(b.N), "cpu-us/op")
		})
	}
}
