package wasmpool

import (
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// linkedData defines a memory with data and re-exports the host function
// it imports: exports "0" (env.add) and "1" (the memory).
const linkedData = `(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 8) "\05")
  (export "0" (func $add))
  (export "1" (memory 0)))`

// linkedCode imports both by position and bumps the byte it reads.
const linkedCode = `(module
  (import "x" "add" (func $add (param i32 i32) (result i32)))
  (import "x" "memory" (memory 0))
  (func (export "bump") (result i32)
    (i32.store8 (i32.const 8) (call $add (i32.load8_u (i32.const 8)) (i32.const 1)))
    (i32.load8_u (i32.const 8))))`

// TestInstantiateLinked: the second module gets the first instance's
// exports as its imports, a fresh pair per store (every store reads the
// data module's initial byte, 5, and bumps it to 6, through pooled
// slots that are reused), and a mismatch fails as an error, not a crash.
func TestInstantiateLinked(t *testing.T) {
	pool := testPool()
	e := newEngine(t, &pool, false)
	l := newLinker(t, e)
	pre := newPre(t, l, compile(t, e, linkedData))
	code := compile(t, e, linkedCode)
	for i := 0; i < 20; i++ {
		s := wasmtime.NewStore(e)
		inst, err := pre.InstantiateLinked(s, code, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got := call(t, s, inst, "bump"); got != 6 {
			t.Fatalf("store %d: read %d, want 6", i, got)
		}
		s.Close()
	}
	s := wasmtime.NewStore(e)
	defer s.Close()
	if _, err := pre.InstantiateLinked(s, code, 1); err == nil {
		t.Fatal("one import for two: no error")
	}
	if _, err := pre.InstantiateLinked(s, code, MaxLinkedImports+1); err == nil {
		t.Fatal("over MaxLinkedImports: no error")
	}
	other := newEngine(t, nil, false)
	if _, err := pre.InstantiateLinked(wasmtime.NewStore(other), code, 2); err != ErrEngineMismatch {
		t.Fatalf("another engine's store: %v", err)
	}
}
