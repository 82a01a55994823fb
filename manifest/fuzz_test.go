package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wedge-run/wedge/internal/fuzzseed"
)

// FuzzParseSpec: the JSON spec the admin API receives with an app
// deployment (PUT /v1/apps/{app}) either fails with an *ErrorList of
// ErrInvalid errors or validates to an app whose spec parses back to the
// same spec.
func FuzzParseSpec(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.toml")
	files = append(files, "../examples/manifest-demo/wedge.toml", "../examples/chat/wedge.toml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		app, err := Parse(name, data)
		if err != nil {
			continue
		}
		if err := app.ResolveSecrets(func(string) (string, bool) { return "s3cret", true }); err != nil {
			f.Fatal(err)
		}
		spec, err := app.Spec()
		if err != nil {
			f.Fatal(err)
		}
		fuzzseed.Add(f, spec)
	}
	fuzzseed.Add(f, []byte(`{"spec_version":1}`))
	fuzzseed.Add(f, []byte(`{"spec_version":2,"app":{"name":"x"}}`))
	fuzzseed.Add(f, []byte(`{"spec_version":1,"app":{"name":"x"},"functions":{"f":{"module":"f.wasm","routes":["/a/..."],"limits":{"memory_mb":99999}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		app, err := ParseSpec(data)
		if err != nil {
			var list *ErrorList
			if !errors.As(err, &list) || len(list.Errors) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty ErrorList", err, err)
			}
			for _, e := range list.Errors {
				if !errors.Is(e, ErrInvalid) {
					t.Fatalf("error %v is not ErrInvalid", e)
				}
			}
			return
		}
		spec, err := app.Spec()
		if err != nil {
			t.Fatalf("a parsed spec does not encode: %v", err)
		}
		app2, err := ParseSpec(spec)
		if err != nil {
			t.Fatalf("spec does not parse back: %v\n%s", err, spec)
		}
		spec2, err := app2.Spec()
		if err != nil || !bytes.Equal(spec, spec2) {
			t.Fatalf("spec changes on a round trip (%v):\n%s\n%s", err, spec, spec2)
		}
	})
}
