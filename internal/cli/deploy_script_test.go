package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/testutil"
)

// TestDeployScript: `wedge deploy NAME worker.js --route /x` sends the
// file as a JavaScript module; the node serves it, and a script that
// does not compile fails the command with its line and column.
func TestDeployScript(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data)
	tokenBytes, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenBytes))
	dir := t.TempDir()
	worker := filepath.Join(dir, "worker.js")
	script := `export default {
  async fetch(request, env) {
    return new Response("hi from " + env.WHO);
  },
};
`
	os.WriteFile(worker, []byte(script), 0o644)
	out, err := wedge(t, d, token, "deploy", "hi", worker, "--route", "/hi", "--config", "WHO=js")
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	// Named as JavaScript with its script's size, not as the engine's
	// native entry.
	kind := fmt.Sprintf("js (script %dB)", len(script))
	testutil.Contains(t, out, "created hi version 1", "route /hi", kind)
	if ls, err := wedge(t, d, token, "ls"); err != nil || !regexp.MustCompile(`(?m)^hi +1 +`+regexp.QuoteMeta(kind)+` `).MatchString(ls) {
		t.Fatalf("wedge ls: %v\n%s\nwant hi listed as %s", err, ls, kind)
	}
	if got := testutil.Get(t, d.public+"/hi"); got.Status != 200 || got.Body != "hi from js" {
		t.Fatalf("GET /hi: %d %q", got.Status, got.Body)
	}

	bad := filepath.Join(dir, "bad.js")
	os.WriteFile(bad, []byte("export default {\n  fetch() { return 1 +; },\n};\n"), 0o644)
	out, err = wedge(t, d, token, "deploy", "bad", bad, "--route", "/bad")
	if err == nil {
		t.Fatalf("deploy of a bad script succeeded:\n%s", out)
	}
	testutil.Contains(t, out, "SyntaxError", "worker.js:2:")
}
