package registry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/storage"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

const helloWAT = `(module
  (memory (export "memory") 1)
  (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`

// newRegistry is a registry over a real bbolt file and a real engine
// whose artifact cache is returned, to see whether anything compiled.
func newRegistry(t *testing.T) (*registry.Registry, *storage.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cache := filepath.Join(dir, "artifacts")
	eng, err := runtime.NewEngine(runtime.Config{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	r := registry.New(registry.Options{Engine: eng, DB: db})
	t.Cleanup(r.Close)
	if err := r.Load(); err != nil {
		t.Fatal(err)
	}
	return r, db, cache
}

// TestDeployCancelledContext: a deploy, app deploy or delete whose
// context is done before it starts returns ctx.Err() and writes
// nothing: no record, no blob, no compiled artifact, nothing served.
func TestDeployCancelledContext(t *testing.T) {
	r, db, cache := newRegistry(t)
	wasm := testutil.WAT(t, helloWAT)
	done, cancel := context.WithCancel(context.Background())
	cancel()

	req := registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: "f", Routes: []string{"/f"}}, Wasm: wasm}
	if _, _, err := r.Deploy(done, req); !errors.Is(err, context.Canceled) {
		t.Fatalf("Deploy with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := r.DeployApp(done, "app", nil, []registry.DeployRequest{req}); !errors.Is(err, context.Canceled) {
		t.Fatalf("DeployApp with a cancelled context: %v, want context.Canceled", err)
	}
	if _, ok := r.Get("f"); ok {
		t.Fatal("a cancelled deploy is served")
	}
	if fns, err := db.ListFunctions(); err != nil || len(fns) != 0 {
		t.Fatalf("stored functions after cancelled deploys: %v, %v; want none", fns, err)
	}
	if apps, err := db.ListApps(); err != nil || len(apps) != 0 {
		t.Fatalf("stored apps after a cancelled app deploy: %v, %v; want none", apps, err)
	}
	if db.HasBlob(registry.SHA(wasm)) {
		t.Fatal("the module of a cancelled deploy is stored")
	}
	if n := countFiles(t, cache); n != 0 {
		t.Fatalf("%d compiled artifacts after cancelled deploys; want none (nothing compiled)", n)
	}

	// The same deploy with a live context goes through; a delete with a
	// done one leaves it in place.
	if _, _, err := r.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if countFiles(t, cache) == 0 {
		t.Fatal("no compiled artifact after a deploy: the check above sees nothing")
	}
	if _, err := r.Delete(done, "f"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Delete with a cancelled context: %v, want context.Canceled", err)
	}
	if _, ok := r.Get("f"); !ok {
		t.Fatal("a cancelled delete removed the function")
	}
	if _, err := db.GetFunction("f"); err != nil {
		t.Fatalf("a cancelled delete removed the stored record: %v", err)
	}
	if _, err := r.Delete(context.Background(), "f"); err != nil {
		t.Fatal(err)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
