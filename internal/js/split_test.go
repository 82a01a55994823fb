package js_test

import (
	"bytes"
	"testing"

	"github.com/wedge-run/wedge/internal/js"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/testutil"
)

func TestSplitFindsTheScript(t *testing.T) {
	script := []byte("export default { fetch() { return new Response(\"split\"); } };")
	wasm, err := js.Combine(script)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := js.Split(wasm)
	if !ok || !bytes.Equal(got, script) {
		t.Fatalf("Split(Combine(s)) = %q, %v", got, ok)
	}
	if _, ok := js.Split(js.Engine()); ok {
		t.Error("the engine alone split")
	}
	if _, ok := js.Split(testutil.WAT(t, `(module (memory 1) (data (i32.const 0) "wjs1"))`)); ok {
		t.Error("another module split")
	}
	// A combined module altered anywhere is not the engine's: refused.
	bad := append([]byte(nil), wasm...)
	bad[len(bad)/2] ^= 1
	if _, ok := js.Split(bad); ok {
		t.Error("an altered combination split")
	}
}

// The registry pre-initializes the engine with the script as a trailer
// rather than the combined module it stores: both must give the same
// snapshot (the same memory and globals), so that a node that deploys
// either serves the same function.
func TestTrailerMatchesCombine(t *testing.T) {
	e := newEngine(t)
	env := runtime.NewEnv("same", nil, runtime.Limits{})
	script := []byte("let n = 0;\nexport default { fetch() { n++; return new Response(\"n=\" + n + \" r=\" + typeof Math.random()); } };")
	wasm, _ := js.Combine(script)
	a, _, err := e.Preinitialize(wasm, env)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := e.PreinitializeWith(js.Engine(), env, runtime.PreinitOptions{Trailer: js.Trailer(script), KeepCompiled: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("snapshots differ: %d and %d bytes", len(a), len(b))
	}
}
