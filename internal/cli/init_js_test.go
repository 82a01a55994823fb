package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/testutil"
)

// TestInitJavaScript: wedge init --lang js, then the scaffold's own test
// (make test: a throwaway node, deploy, curl), then make deploy to a
// running node, which serves the worker and its KV counter.
func TestInitJavaScript(t *testing.T) {
	d, run := scaffoldNode(t)
	work := t.TempDir()
	out := run(work, wedgeBinary(t), "init", "--lang", "js", "hi")
	testutil.Contains(t, out, "created hi/")
	testutil.Contains(t, out, "wedge deploy hi worker.js --route '/hi/...'")
	out = run(filepath.Join(work, "hi"), "make", "test")
	testutil.Contains(t, out, "PASS")
	out = run(filepath.Join(work, "hi"), "make", "deploy")
	testutil.Contains(t, out, "created hi version 1")
	if r := testutil.Get(t, d.public+"/hi?name=newcomer"); r.Status != 200 || r.Body != "hello, newcomer, from hi\n" {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{`{"visits":1}`, `{"visits":2}`} {
		if r := testutil.Get(t, d.public+"/hi/count"); r.Status != 200 || strings.TrimSpace(r.Body) != want {
			t.Fatalf("count: %d %q, want %s", r.Status, r.Body, want)
		}
	}
}
