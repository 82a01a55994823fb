package cli_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/testutil"
)

// reactor is a module with an initializer: its deploy compiles, then
// snapshots.
const reactor = `(module
  (import "wedge_v1" "response_write" (func $w (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $n (i32.const 7)))
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (i32.store8 (i32.const 0) (i32.add (i32.const 48) (global.get $n)))
    (drop (call $w (i32.const 0) (i32.const 1))) (i32.const 0)))`

// inOrder fails unless every pattern matches a line of out, each on a
// later line than the one before.
func inOrder(t *testing.T, out string, patterns ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		if i == len(lines) {
			t.Fatalf("no line matching %q (in this order) in:\n%s", p, out)
		}
		i++
	}
}

// TestDeployShowsProgress: `wedge deploy` prints the upload, then each
// phase the node reports as it starts (compiling, snapshotting, compiling
// snapshot, ready),
// with the elapsed time, for a module and per function for an app. The
// node streams the phases only when asked (Accept: application/x-ndjson);
// a failure is the stream's last line with the real status.
func TestDeployShowsProgress(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data)
	token, _ := os.ReadFile(filepath.Join(data, "admin-token"))
	env := []string{"WEDGE_ADMIN=" + d.admin, "WEDGE_ADMIN_TOKEN=" + strings.TrimSpace(string(token))}
	dir := t.TempDir()
	wasm := testutil.WAT(t, reactor)
	os.WriteFile(filepath.Join(dir, "r.wasm"), wasm, 0o644)

	r := runIn(t, dir, env, "deploy", "snap", "r.wasm", "--route", "/snap")
	r.want(t, 0, "deploy")
	inOrder(t, r.stdout,
		`^deploying snap from r.wasm \(\d+B\)$`,
		`^ +\d+\.\ds uploaded \d+B$`,
		`^ +\d+\.\ds compiling$`,
		`^ +\d+\.\ds snapshotting$`,
		`^ +\d+\.\ds compiling snapshot$`,
		`^ +\d+\.\ds ready$`,
		`^created snap version 1 in \d+\.\ds`)
	if got := testutil.Get(t, d.public+"/snap"); got.Body != "7" {
		t.Fatalf("the snapshot answers %+v", got)
	}

	// A script: evaluated and snapshotted in the engine, then compiled;
	// the upload is reported before the node's first phase.
	os.WriteFile(filepath.Join(dir, "w.js"), []byte(`export default { fetch() { return new Response("js") } }`), 0o644)
	r = runIn(t, dir, env, "deploy", "js", "w.js", "--route", "/js")
	r.want(t, 0, "deploy js")
	inOrder(t, r.stdout, `uploaded`, `^ +\d+\.\ds snapshotting$`, `^ +\d+\.\ds compiling snapshot$`, `^ +\d+\.\ds ready$`, `^created js version 1`)
	if strings.Contains(r.stdout, "s compiling\n") {
		t.Fatalf("a script is not compiled before its snapshot:\n%s", r.stdout)
	}

	// An app: the phases of each function, named.
	os.WriteFile(filepath.Join(dir, "wedge.toml"), []byte(`[app]
name = "pair"

[functions.one]
module = "r.wasm"
routes = ["/one"]

[functions.two]
module = "r.wasm"
routes = ["/two"]
`), 0o644)
	r = runIn(t, dir, env, "deploy", ".")
	r.want(t, 0, "deploy app")
	for _, fn := range []string{"one", "two"} {
		inOrder(t, r.stdout, `^deploying app pair: 2 function\(s\)`, `uploaded`, `compiling +`+fn+`$`, `snapshotting +`+fn+`$`, `compiling snapshot +`+fn+`$`, `ready +`+fn+`$`, `^app pair .* in \d+\.\ds:$`, `created +`+fn)
	}

	// The stream on the wire: a failure is its last line.
	hdr := map[string]string{"Authorization": "Bearer " + strings.TrimSpace(string(token)), "Accept": "application/x-ndjson"}
	resp := testutil.Do(t, "PUT", d.admin+"/v1/functions/bad?route=/bad", strings.NewReader("garbage"), hdr)
	sc := bufio.NewScanner(strings.NewReader(resp.Body))
	var last struct {
		Phase, Error string
		Status       int
	}
	var phases []string
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		phases = append(phases, last.Phase)
	}
	if last.Phase != "error" || last.Status != 400 || !strings.Contains(last.Error, "invalid module") || phases[0] != "compiling" {
		t.Fatalf("streamed failure: phases %v, last %+v", phases, last)
	}
	// Without the header the answer is the plain one of the API contract.
	delete(hdr, "Accept")
	resp = testutil.Do(t, "PUT", d.admin+"/v1/functions/plain?route=/plain", strings.NewReader(string(wasm)), hdr)
	if resp.Status != 201 || !strings.HasPrefix(resp.Body, "{") || !strings.Contains(resp.Body, `"name": "plain"`) {
		t.Fatalf("plain deploy: %d %s", resp.Status, resp.Body)
	}
}

// TestServeDemoKeepsUnchanged: `serve --demo` says "compiling NAME" before
// each demo function it deploys, and on the next start on the same data
// keeps the functions that did not change (their versions stay) instead
// of deploying them again.
func TestServeDemoKeepsUnchanged(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--demo", "embedded")
	testutil.Contains(t, d.output(), "hello     compiling", "hello     ready in ")
	d.stop(t)
	d = serve(t, data, "--demo", "embedded")
	testutil.Contains(t, d.output(), "hello     unchanged (version 1)")
	if strings.Contains(d.output(), "compiling") {
		t.Fatalf("compiled again:\n%s", d.output())
	}
	if r := testutil.Get(t, d.public+"/hello"); r.Status != 200 {
		t.Fatalf("%+v", r)
	}
}
