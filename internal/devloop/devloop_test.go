package devloop_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/devloop"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestDevWAT: a directory holding one .wat file is deployed on a node
// the loop starts; every save answers with the new text; a syntax error
// is printed and the last good version keeps serving; stopping the loop
// stops its node.
func TestDevWAT(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hello")
	src := filepath.Join(dir, "hello.wat")
	write(t, src, watText("v0\n"))
	d := startDev(t, devloop.Options{Dir: dir})
	url := d.public + "/hello"
	waitAnswer(t, 2*time.Minute, url, "v0\n", time.Now())
	d.waitOutput(t, time.Minute, "watching "+dir, 1)
	testutil.Contains(t, d.out.String(), "function hello (WAT", "deployed hello in", "admin token  in "+filepath.Join(dir, ".wedge-dev", "admin-token"))

	var took, cpu []time.Duration
	n := runs(3)
	for i := 1; i <= n; i++ {
		want := "v" + string(rune('0'+i%10)) + "\n"
		c0 := cpuTime()
		saved := save(t, src, watText(want))
		took = append(took, waitAnswer(t, time.Minute, url, want, saved))
		cpu = append(cpu, cpuTime()-c0)
		d.waitOutput(t, time.Minute, "redeployed hello in", i)
	}
	t.Logf("WAT: save to new answer, %d runs: median %v (all %v), CPU median %v; the loop printed %v", n, median(took), took, median(cpu), loopTimes(d.out.String(), "hello"))
	good := "v" + string(rune('0'+n%10)) + "\n"

	save(t, src, "(module\n  (func (export \"wedge_handle\")\n")
	d.waitOutput(t, time.Minute, "build of hello failed; version", 1)
	testutil.Contains(t, d.out.String(), "keeps serving", "hello.wat")
	if _, got := body(url); got != good {
		t.Fatalf("after a syntax error the function answers %q, want the last good %q", got, good)
	}
	saved := save(t, src, watText("fixed\n"))
	waitAnswer(t, time.Minute, url, "fixed\n", saved)

	if err := d.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if status, got := body(url); status != 0 {
		t.Fatalf("the loop's node still answers after the loop stopped: %d %q", status, got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".wedge-dev", "dev.json")); !os.IsNotExist(err) {
		t.Fatalf("dev.json left behind: %v", err)
	}
}

// TestDevJS: a JavaScript worker is redeployed on save and its console
// output streams to the terminal; a syntax error is the node's refusal,
// printed, and the last good version keeps serving.
func TestDevJS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "greet")
	src := filepath.Join(dir, "worker.js")
	worker := func(text string) string {
		return "export default {\n  async fetch(request) {\n    console.log(\"serving " + strings.TrimSpace(text) + "\");\n    return new Response(" + "\"" + strings.TrimSpace(text) + "\\n\");\n  },\n};\n"
	}
	write(t, src, worker("v0"))
	d := startDev(t, devloop.Options{Dir: dir})
	url := d.public + "/greet"
	waitAnswer(t, 3*time.Minute, url, "v0\n", time.Now())
	d.waitOutput(t, time.Minute, "greet | ", 1) // the request's log line
	testutil.Contains(t, d.out.String(), "function greet (JavaScript", "serving v0")

	var took, cpu []time.Duration
	n := runs(2)
	for i := 1; i <= n; i++ {
		want := "v" + string(rune('0'+i%10))
		c0 := cpuTime()
		saved := save(t, src, worker(want))
		took = append(took, waitAnswer(t, 3*time.Minute, url, want+"\n", saved))
		cpu = append(cpu, cpuTime()-c0)
		d.waitOutput(t, time.Minute, "redeployed greet in", i)
	}
	t.Logf("JS: save to new answer, %d runs: median %v (all %v), CPU median %v; the loop printed %v", n, median(took), took, median(cpu), loopTimes(d.out.String(), "greet"))
	d.waitOutput(t, time.Minute, "serving v1", 1)

	good := "v" + string(rune('0'+n%10)) + "\n"
	save(t, src, "export default {\n  fetch() { return 1 +; },\n};\n")
	d.waitOutput(t, 3*time.Minute, "deploy of greet failed; version", 1)
	testutil.Contains(t, d.out.String(), "keeps serving", "SyntaxError", "worker.js:2:")
	// The engine's message as logged at deploy, each line prefixed.
	d.waitOutput(t, time.Minute, "greet |       at worker.js:2:", 1)
	if _, got := body(url); got != good {
		t.Fatalf("after a syntax error the function answers %q, want the last good %q", got, good)
	}
}

// TestDevExistingNode: with Admin the loop deploys to that node, and
// leaves it running when it stops; a refused token is a clear error.
func TestDevExistingNode(t *testing.T) {
	n := testutil.StartNode(t, "")
	dir := filepath.Join(t.TempDir(), "ext")
	write(t, filepath.Join(dir, "ext.wat"), watText("external\n"))

	err := devloop.Run(t.Context(), devloop.Options{Dir: dir, Admin: n.AdminURL(), Token: "wrong", TokenSource: "--token", Stdout: &testutil.SyncBuffer{}})
	if err == nil || !strings.Contains(err.Error(), "the token from --token was refused by "+n.AdminURL()) {
		t.Fatalf("a wrong token: %v", err)
	}

	d := startDev(t, devloop.Options{Dir: dir, Admin: n.AdminURL(), Token: testutil.Token, TokenSource: "WEDGE_ADMIN_TOKEN", Public: n.PublicURL()})
	waitAnswer(t, time.Minute, n.PublicURL()+"/ext", "external\n", time.Now())
	testutil.Contains(t, d.out.String(), "node  "+n.AdminURL()+" (given; left running on exit)", "admin token  from WEDGE_ADMIN_TOKEN")
	if _, err := os.Stat(filepath.Join(dir, devloop.DataDirName)); !os.IsNotExist(err) {
		t.Fatalf("the loop made a data directory though it started no node: %v", err)
	}
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	if status, got := body(n.PublicURL() + "/ext"); status != 200 || got != "external\n" {
		t.Fatalf("the given node after the loop stopped: %d %q", status, got)
	}
}

// TestDevSecondLoopUsesRunningNode: a second loop in the same project
// deploys to the first one's node, and stopping it leaves that node up.
func TestDevSecondLoopUsesRunningNode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "twice")
	src := filepath.Join(dir, "twice.wat")
	write(t, src, watText("one\n"))
	first := startDev(t, devloop.Options{Dir: dir})
	first.waitOutput(t, time.Minute, "watching", 1)
	second := startDev(t, devloop.Options{Dir: dir})
	if second.public != first.public {
		t.Fatalf("second loop's node %s, want the running %s", second.public, first.public)
	}
	second.waitOutput(t, time.Minute, "watching", 1)
	testutil.Contains(t, second.out.String(), "already running for this project")
	if err := second.stop(t); err != nil {
		t.Fatal(err)
	}
	saved := save(t, src, watText("two\n"))
	waitAnswer(t, time.Minute, first.public+"/twice", "two\n", saved)
}
