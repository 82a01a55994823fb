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
	} {
		p := checkField(c.spec)
		if len(p) == 0 || !strings.Contains(strings.Join(p, "; "), c.want) {
			t.Errorf("%s: problems %q, want one mentioning %q", c.name, p, c.want)
		}
	}
	for _, f := range []feature{forPooling, forPre} {
		if err := checkLayout(f); err != nil {
			t.Fatal(err)
		}
	}
}
