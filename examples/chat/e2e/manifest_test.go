package chat_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/manifest"
)

// TestManifest checks that examples/chat/wedge.toml is valid and
// describes the deployment the other tests make (functions, routes,
// trigger, namespace, limits, configuration), so that the two cannot
// drift apart.
func TestManifest(t *testing.T) {
	app, err := manifest.Load(filepath.Join(testutil.RepoRoot(t), "examples", "chat", "wedge.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if app.Name != "chat" || app.KVNamespace != ns {
		t.Fatalf("app %q, namespace %q", app.Name, app.KVNamespace)
	}
	if len(app.Functions) != len(functions) {
		t.Fatalf("the manifest has %d functions, the tests deploy %d", len(app.Functions), len(functions))
	}
	for _, want := range functions {
		f, ok := app.Function(want.name)
		if !ok {
			t.Errorf("no function %s in wedge.toml", want.name)
			continue
		}
		if f.Module != want.name+"/"+want.name+".wasm" || f.Build != "make -C "+want.name {
			t.Errorf("%s: module %q, build %q", f.Name, f.Module, f.Build)
		}
		if f.KVNamespace != ns || len(f.KVGrants) != 0 {
			t.Errorf("%s: namespace %q, grants %v", f.Name, f.KVNamespace, f.KVGrants)
		}
		if !slices.Equal(f.Routes, want.routes) {
			t.Errorf("%s: routes %v, want %v", f.Name, f.Routes, want.routes)
		}
		if f.Affinity != want.affinity {
			t.Errorf("%s: affinity %q, want %q", f.Name, f.Affinity, want.affinity)
		}
		if len(f.Triggers) != len(want.triggers) {
			t.Errorf("%s: triggers %+v, want %+v", f.Name, f.Triggers, want.triggers)
		}
		for i, tr := range want.triggers {
			if i < len(f.Triggers) {
				got := f.Triggers[i]
				if got.Kind != tr.Kind || got.Namespace != tr.Namespace || got.Prefix != tr.Prefix {
					t.Errorf("%s: trigger %d is %+v, want %+v", f.Name, i, got, tr)
				}
			}
		}
		l := f.Limits
		if l != want.limits {
			t.Errorf("%s: limits %+v, the tests deploy %+v", f.Name, l, want.limits)
		}
		if len(f.Config) != len(want.config) {
			t.Errorf("%s: config %v, want %v", f.Name, f.Config, want.config)
		}
		for k, v := range want.config {
			if f.Config[k] != v {
				t.Errorf("%s: config %s = %q, want %q", f.Name, k, f.Config[k], v)
			}
		}
		if len(f.Secrets) != 0 {
			t.Errorf("%s: secrets %v", f.Name, f.Secrets)
		}
	}
}
