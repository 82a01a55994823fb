package snapshot

import (
	"bytes"
	"errors"
	"strconv"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// TestSplitLinksBackToTheOriginal: the code half imports the memory the
// data half defines and exports, the data half re-exports every import
// under its position, and linked together by position they answer as
// the original does. Two modules that differ only in data split to the
// same code.
func TestSplitLinksBackToTheOriginal(t *testing.T) {
	src := func(text string) string {
		return `(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "base" (global $base i32))
  (memory (export "memory") 2 10)
  (global $g (mut i32) (i32.const 7))
  (data (i32.const 100) "` + text + `")
  (func (export "read") (param $a i32) (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (call $add (i32.load8_u (local.get $a)) (i32.add (global.get $base) (global.get $g)))))`
	}
	orig := wat(t, src("abc"))
	code, data, links, err := Split(orig)
	if err != nil {
		t.Fatal(err)
	}
	if links != 3 {
		t.Fatalf("links %d, want 3 (two imports and the memory)", links)
	}
	code2, data2, _, err := Split(wat(t, src("xyz")))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code, code2) || bytes.Equal(data, data2) {
		t.Fatal("modules that differ only in data must split to the same code and different data")
	}
	mustValidate(t, code)
	mustValidate(t, data)

	e := testEngine()
	store := wasmtime.NewStore(e)
	add := wasmtime.WrapFunc(store, func(a, b int32) int32 { return a + b })
	base := mustGlobal(t, store, 1000)
	run := func(mod []byte, imports ...wasmtime.AsExtern) *wasmtime.Instance {
		m, err := wasmtime.NewModule(e, mod)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := wasmtime.NewInstance(store, m, imports)
		if err != nil {
			t.Fatal(err)
		}
		return inst
	}
	whole := run(orig, add, base)
	d := run(data, add, base)
	var linked []wasmtime.AsExtern
	for i := 0; i < links; i++ {
		ext := d.GetExport(store, strconv.Itoa(i))
		if ext == nil {
			t.Fatalf("data exports no %q", strconv.Itoa(i))
		}
		linked = append(linked, ext)
	}
	split := run(code, linked...)
	for _, inst := range []*wasmtime.Instance{whole, split} {
		got, err := inst.GetFunc(store, "read").Call(store, 101)
		if err != nil || got.(int32) != 'b'+1000+8 {
			t.Fatalf("read: %v %v, want %d", got, err, 'b'+1000+8)
		}
	}
	if size := split.GetExport(store, "memory").Memory().Size(store); size != 2 {
		t.Fatalf("the code half exports a memory of %d pages, want the data half's 2", size)
	}
}

func TestSplitRefusesWhatItCannotLink(t *testing.T) {
	for name, src := range map[string]string{
		"no memory":       `(module (func (export "f")))`,
		"imported memory": `(module (import "env" "m" (memory 1)))`,
		"data count": `(module (memory 1) (data $d "x")
		  (func (export "f") (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))))`,
	} {
		if _, _, _, err := Split(wat(t, src)); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
}

func mustGlobal(t *testing.T, store *wasmtime.Store, v int32) *wasmtime.Global {
	t.Helper()
	g, err := wasmtime.NewGlobal(store, wasmtime.NewGlobalType(wasmtime.NewValType(wasmtime.KindI32), false), wasmtime.ValI32(v))
	if err != nil {
		t.Fatal(err)
	}
	return g
}
