package manifest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/manifest"
)

// TestSpecRoundTrip: Spec then ParseSpec gives the same app, and Spec of
// that gives the same bytes.
func TestSpecRoundTrip(t *testing.T) {
	for _, src := range goldenInputs(t) {
		t.Run(filepath.Base(src), func(t *testing.T) {
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			app, err := manifest.Parse(src, data)
			if err != nil {
				t.Fatal(err)
			}
			if err := app.ResolveSecrets(fakeEnv); err != nil {
				t.Fatal(err)
			}
			spec, err := app.Spec()
			if err != nil {
				t.Fatal(err)
			}
			back, err := manifest.ParseSpec(spec)
			if err != nil {
				t.Fatalf("ParseSpec:\n%v\nspec: %s", err, spec)
			}
			if back.Dir != "" || back.File != "" {
				t.Errorf("Dir, File = %q, %q", back.Dir, back.File)
			}
			if back.Name != app.Name || back.KVNamespace != app.KVNamespace ||
				!reflect.DeepEqual(back.Functions, app.Functions) || !reflect.DeepEqual(back.Buckets, app.Buckets) {
				t.Errorf("round trip changed the app:\n got %+v\nwant %+v", back.Functions, app.Functions)
			}
			again, err := back.Spec()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, spec) {
				t.Errorf("spec not canonical:\n%s\n%s", spec, again)
			}
		})
	}
}

// TestParseSpecValidates: the node validates a spec with the manifest's
// rules, and names fields only.
func TestParseSpecValidates(t *testing.T) {
	valid := `{"spec_version":1,"app":{"name":"chat"},"functions":{"web":{"module":"web.wasm","routes":["/"],"kv_namespace":"web"}}}`
	if _, err := manifest.ParseSpec([]byte(valid)); err != nil {
		t.Fatalf("valid spec: %v", err)
	}
	cases := []struct{ name, spec, want string }{
		{"no version", `{"app":{"name":"chat"},"functions":{}}`,
			"spec_version: unsupported spec version none: this node reads version 1"},
		{"future version", `{"spec_version":2,"app":{"name":"chat"}}`,
			"spec_version: unsupported spec version 2: this node reads version 1"},
		{"unknown field", `{"spec_version":1,"app":{"name":"chat","owner":"x"}}`,
			`unknown field "owner"`},
		{"unknown function field", `{"spec_version":1,"app":{"name":"chat"},"functions":{"web":{"module":"web.wasm","route":["/"]}}}`,
			`functions.web: unknown field "route"`},
		{"type", `{"spec_version":1,"app":{"name":"chat"},"functions":{"web":{"module":"web.wasm","routes":["/"],"limits":{"memory_mb":"64"}}}}`,
			"functions.web.limits.memory_mb: want an integer, got a JSON string"},
		{"trailing data", valid + `{}`, "invalid spec: data after the document"},
		{"not json", `wedge`, "invalid spec: invalid character 'w' looking for beginning of value"},
		{"rules", `{"spec_version":1,"app":{"name":"chat"},"functions":{"web":{"module":"/abs.wasm","routes":["/", "/"],
			"limits":{"memory_mb":0,"timeout":"0s"},
			"triggers":[{"kind":"kv","cron":"* * * * *"},{"kind":"schedule","cron":"61 * * * *","timezone":"UTC"}]}}}`,
			`functions.web.module: "/abs.wasm": must be relative to the manifest's directory` + "\n" +
				`functions.web.limits.timeout: must be more than 0 and at most 15m, got 0s` + "\n" +
				`functions.web.limits.memory_mb: must be between 1 and 1024, got 0` + "\n" +
				`functions.web.triggers[0].cron: does not apply to kv triggers (they take namespace, prefix)` + "\n" +
				`functions.web.triggers[1].cron: invalid cron expression "61 * * * *": end of range (61) above maximum (59): 61` + "\n" +
				`functions.web.routes[1]: route "/" is already used by functions.web.routes[0]`},
		{"secret without value", `{"spec_version":1,"app":{"name":"chat"},"functions":{"web":{"module":"web.wasm","routes":["/"],
			"secrets":{"A":{"env":"A"},"B":"literal","C":{"value":""}}}}}`,
			`functions.web.secrets.A.value: required: a spec carries resolved secrets` + "\n" +
				`functions.web.secrets.B: want a table { value = "...", env = "NAME" }, got a string` + "\n" +
				`functions.web.secrets.C.value: must not be empty`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := manifest.ParseSpec([]byte(c.spec))
			if err == nil {
				t.Fatal("ParseSpec succeeded")
			}
			list := asList(t, err)
			for _, e := range list.Errors {
				if e.File != "" || e.Line != 0 {
					t.Errorf("spec error has a position: %+v", e)
				}
			}
			if got := err.Error(); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
			if !errorsIs(err, manifest.ErrInvalid) {
				t.Error("does not wrap ErrInvalid")
			}
		})
	}
}

func TestSpecOmitsLocalPaths(t *testing.T) {
	app := mustParse(t, "[app]\nname = \"a\"\n[functions.f]\nmodule = \"f.wasm\"\nroutes = [\"/\"]\n")
	app.Dir = "/home/someone/secret-project"
	spec, err := app.Spec()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(spec), "secret-project") || strings.Contains(string(spec), "wedge.toml") {
		t.Errorf("spec carries local paths: %s", spec)
	}
}
