package manifest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/manifest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// demoManifest is the commented example of docs/manifest.md.
const demoManifest = "../examples/manifest-demo/wedge.toml"

// fakeEnv resolves every secret to a value derived from its variable.
func fakeEnv(name string) (string, bool) { return "value-of-" + name, true }

// goldenInputs are the manifests with a golden JSON form: testdata/*.toml
// and the demo example.
func goldenInputs(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	in := map[string]string{"testdata/demo.golden": demoManifest}
	for _, f := range files {
		in[strings.TrimSuffix(f, ".toml")+".golden"] = f
	}
	return in
}

// TestParseGolden parses each manifest and compares its spec (the JSON
// form of the App, with secrets resolved from a fake environment) with
// the golden file. go test ./manifest -run Golden -update rewrites them.
func TestParseGolden(t *testing.T) {
	for golden, src := range goldenInputs(t) {
		t.Run(filepath.Base(src), func(t *testing.T) {
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			app, err := manifest.Parse(filepath.Base(src), data)
			if err != nil {
				t.Fatalf("Parse:\n%v", err)
			}
			if err := app.ResolveSecrets(fakeEnv); err != nil {
				t.Fatal(err)
			}
			spec, err := app.Spec()
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, spec, "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from %s (run with -update if the change is intended):\n%s", src, golden, got.Bytes())
			}
		})
	}
}

// TestValidationErrors parses each testdata/errors/*.toml and expects
// exactly the errors its "# want: " lines list, in order.
func TestValidationErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				if w, ok := strings.CutPrefix(line, "# want: "); ok {
					want = append(want, w)
				}
			}
			if len(want) == 0 {
				t.Fatal(`no "# want: " line`)
			}
			app, err := manifest.Parse(filepath.Base(f), data)
			if err == nil {
				t.Fatalf("Parse succeeded (%d functions); want:\n%s", len(app.Functions), strings.Join(want, "\n"))
			}
			list := asList(t, err)
			var got []string
			for i, e := range list.Errors {
				got = append(got, e.Error())
				if i > 0 && e.Line < list.Errors[i-1].Line {
					t.Errorf("errors not sorted by line: %v after %v", e, list.Errors[i-1])
				}
				if !errorsIs(e, manifest.ErrInvalid) {
					t.Errorf("%v does not wrap ErrInvalid", e)
				}
			}
			if strings.HasPrefix(filepath.Base(f), "syntax-") && !errorsIs(err, manifest.ErrSyntax) {
				t.Errorf("syntax error does not wrap ErrSyntax")
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
