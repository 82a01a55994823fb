package js_test

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/wedge-run/wedge/internal/js"
	"github.com/wedge-run/wedge/internal/runtime"
)

// isolationFile is the script every isolation test deploys (the node's
// TestIsolationEveryGuestKind too): see its header.
const isolationFile = "testdata/isolation.js"

// readScript returns a script of testdata.
func readScript(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSnapshotsShareEngineCode: JavaScript snapshots are served split
// (runtime/split.go) until they are compiled whole: each function's
// module is its memory image, the engine's code is one module compiled
// once for every script, and on either path a request starts from the
// function's own snapshot, not from another function's nor from an
// earlier request's state, sequentially and concurrently.
func TestSnapshotsShareEngineCode(t *testing.T) {
	for _, whole := range []bool{false, true} {
		t.Run(map[bool]string{false: "split", true: "whole"}[whole], func(t *testing.T) { testSharedCode(t, whole) })
	}
}

func testSharedCode(t *testing.T, whole bool) {
	e, err := runtime.NewEngine(runtime.Config{CacheDir: t.TempDir(), SplitOnly: !whole})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	e.ShareCode(js.Engine())
	env := runtime.NewEnv("iso", nil, runtime.Limits{})
	a, err := deploy(t, e, env, readScript(t, isolationFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := deploy(t, e, env, `export default { fetch() { return new Response("other"); } };`)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.SharedCodeModules(); n != 1 {
		t.Fatalf("%d shared code modules for two scripts, want 1", n)
	}
	if whole {
		a.WaitWhole()
		b.WaitWhole()
	}
	if a.Split() == whole || b.Split() == whole {
		t.Fatalf("served split: %v %v, want %v", a.Split(), b.Split(), !whole)
	}
	want := "global=1 heap=1 spread=1"
	var wg sync.WaitGroup
	errs := make(chan string, 80)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				status, out, err := invoke(t, a, env, head("GET", "/"), "")
				if err != nil || status != 200 || out != want {
					errs <- fmt.Sprintf("%d %q %v", status, out, err)
				}
				status, out, err = invoke(t, b, env, head("GET", "/"), "")
				if err != nil || status != 200 || out != "other" {
					errs <- fmt.Sprintf("other: %d %q %v", status, out, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("want %q, got %s", want, e)
	}
}
