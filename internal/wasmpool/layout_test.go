package wasmpool

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// TestLayout fails when the linked wasmtime-go no longer stores its
// handles the way layout.go reads and writes them.
func TestLayout(t *testing.T) {
	if poolingLayoutErr != nil {
		t.Fatal(poolingLayoutErr)
	}
	if preLayoutErr != nil {
		t.Fatal(preLayoutErr)
	}
	if callLayoutErr != nil {
		t.Fatal(callLayoutErr)
	}
	if tickerLayoutErr != nil {
		t.Fatal(tickerLayoutErr)
	}
	for _, s := range layoutSpecs() {
		t.Logf("%v.%s: %v", s.owner, s.field, s.owner.Field(0).Type)
	}
}

// TestLayoutCheckDetectsChanges feeds the checker wrong expectations, as a
// changed wasmtime-go would, and expects each to be reported.
func TestLayoutCheckDetectsChanges(t *testing.T) {
	specs := layoutSpecs()
	byOwner := map[string]fieldSpec{}
	for _, s := range specs {
		byOwner[s.owner.Name()] = s
	}
	cfg, linker, inst := byOwner["Config"], byOwner["Linker"], byOwner["Instance"]
	fn, mem, caller := byOwner["Func"], byOwner["Memory"], byOwner["Caller"]

	for _, c := range []struct {
		name string
		spec fieldSpec
		want string
	}{
		{"renamed field", fieldSpec{forPooling, cfg.owner, "ptr", cfg.want, false}, `field 0 is "_ptr", want "ptr"`},
		{"other pointee", fieldSpec{forPooling, cfg.owner, "_ptr", linker.want, false}, "want _Ctype_struct_wasmtime_linker"},
		{"pointer became value", fieldSpec{forPre, inst.owner, "val", reflect.PointerTo(inst.want), true}, "want"},
		{"extra field", fieldSpec{forPre, linker.owner, "_ptr", linker.want, true}, "exactly one field"},
		{"not from wasmtime-go", fieldSpec{forPooling, reflect.TypeFor[struct{ _ptr *int }](), "_ptr", cfg.want, false}, "comes from package"},
		{"struct field renamed", fieldSpec{forPre, reflect.TypeFor[wasmtime.Instance](), "val",
			reflect.TypeFor[struct {
				store_id uint64
				index_   uint64
			}](), true}, "field 1 is"},
		{"memory as func", fieldSpec{forCall, mem.owner, "val", fn.want, true}, "size 24, align 8), want wasmpool._Ctype_struct_wasmtime_func"},
		{"func as instance", fieldSpec{forCall, fn.owner, "val", inst.want, true}, "want _Ctype_struct_wasmtime_instance"},
		{"caller pointee", fieldSpec{forHost, caller.owner, "ptr", linker.want, true}, "want _Ctype_struct_wasmtime_linker"},
	} {
		p := checkField(c.spec)
		if len(p) == 0 || !strings.Contains(strings.Join(p, "; "), c.want) {
			t.Errorf("%s: problems %q, want one mentioning %q", c.name, p, c.want)
		}
	}
	for _, f := range []feature{forPooling, forPre, forCall, forHost} {
		if err := checkLayout(f); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAnonCStruct pins how cgo names anonymous C structs, which
// sameCType compares by shape only.
func TestAnonCStruct(t *testing.T) {
	for name, want := range map[string]bool{
		"_Ctype_struct___0":             true,
		"_Ctype_struct___16":            true,
		"_Ctype_struct___":              false,
		"_Ctype_struct___x":             false,
		"_Ctype_struct_wasmtime_memory": false,
	} {
		if got := isAnonCStruct(name); got != want {
			t.Errorf("isAnonCStruct(%q) = %v", name, got)
		}
	}
	// The inner struct of wasmtime_memory_t is anonymous on both sides,
	// and a different shape is still caught.
	anon := reflect.TypeFor[wasmtime.Memory]().Field(0).Type.Field(0).Type
	if !isAnonCStruct(anon.Name()) {
		t.Fatalf("wasmtime-go's wasmtime_memory_t starts with %s, not an anonymous struct", anon.Name())
	}
	ours := reflect.TypeFor[_Ctype_wasmtime_memory_t]().Field(0).Type
	if p := sameCType("anon", anon, ours); len(p) != 0 {
		t.Fatal(p)
	}
	if p := sameCType("anon", anon, reflect.TypeFor[_Ctype_wasmtime_func_t]()); len(p) == 0 {
		t.Fatal("a differently shaped struct passed")
	}
}
