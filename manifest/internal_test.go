package manifest

import (
	"github.com/wedge-run/wedge/model"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/fuzzseed"
	"github.com/wedge-run/wedge/internal/kv"
)

// TestResourceNamesMatchKV: namespaces, buckets and queues follow the kv
// store's namespace rule.
func TestResourceNamesMatchKV(t *testing.T) {
	names := []string{"", ".", "..", "...", "a", "A.b_c-9", "a/b", "a b", "ü", "*", strings.Repeat("x", MaxNameLen), strings.Repeat("x", MaxNameLen+1)}
	for c := 0; c < 256; c++ {
		names = append(names, "n"+string(rune(c)))
	}
	for _, n := range names {
		if model.ValidResourceName(n) != kv.ValidNamespace(n) {
			t.Errorf("%q: manifest says %v, kv says %v", n, model.ValidResourceName(n), kv.ValidNamespace(n))
		}
	}
}

func TestPathString(t *testing.T) {
	p := path{}.key("functions").key("a").key("triggers").index(2).key("cron")
	if got := p.String(); got != "functions.a.triggers[2].cron" {
		t.Errorf("got %s", got)
	}
	if got := (path{}.key("config").key("a.b").key("")).String(); got != `config."a.b".""` {
		t.Errorf("got %s", got)
	}
	if got := p.parent().String(); got != "functions.a.triggers[2]" {
		t.Errorf("parent = %s", got)
	}
}

// FuzzParse: no input makes Parse panic, every error has a position
// inside the file, and whatever parses has a spec that parses back.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.toml", "testdata/errors/*.toml", "../examples/manifest-demo/wedge.toml"} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			fuzzseed.Add(f, data)
		}
	}
	f.Add([]byte("[app]\nname = \"x\"\n[functions.f]\nmodule = \"f\"\ntriggers = [{ kind = \"schedule\", cron = \"TZ=\" }]\n"))
	f.Add([]byte("[[a]]\n[[a.b]]\n[a.b.c]\n[[a]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		app, err := Parse("f.toml", data)
		if err != nil {
			lines := strings.Count(string(data), "\n") + 1
			for _, e := range err.(*ErrorList).Errors {
				if e.File != "f.toml" || e.Line < 0 || e.Line > lines {
					t.Fatalf("bad position: %#v (%d lines)", e, lines)
				}
			}
			return
		}
		if err := app.ResolveSecrets(func(string) (string, bool) { return "v", true }); err != nil {
			t.Fatal(err)
		}
		spec, err := app.Spec()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSpec(spec); err != nil {
			t.Fatalf("spec does not parse back: %v\n%s", err, spec)
		}
	})
}
