package node_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// ownArtifacts makes a node keep its artifacts in <data>/artifacts, its
// own directory, which it collects (a shared directory is never
// collected).
func ownArtifacts(c *node.Config) { c.ArtifactDir = "" }

// keepOne keeps only the active version of each function, whose
// artifacts then follow the live versions alone.
func keepOne(c *node.Config) { c.KeepVersions = 1 }

// artifactFiles lists the compiled artifacts in a node's own directory,
// by the sha256 that starts their names.
func artifactFiles(t testing.TB, dataDir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dataDir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".cwasm") {
			out = append(out, strings.SplitN(e.Name(), "-", 2)[0])
		}
	}
	sort.Strings(out)
	return out
}

// liveModules lists the modules the node's live versions use: each
// function's module and its snapshot.
func liveModules(t testing.TB, n *node.Node) []string {
	t.Helper()
	fns, err := testutil.Client(n).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fns {
		out = append(out, f.SHA256)
		if f.Snapshot != nil {
			out = append(out, f.Snapshot.SHA256)
		}
	}
	sort.Strings(out)
	return out
}

// reactor is a module with an initializer, served from a snapshot whose
// content depends on the function's configuration.
func reactor(t testing.TB) []byte {
	return testutil.WAT(t, `(module
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (global $n (mut i32) (i32.const 0))
	  (func (export "_initialize") (global.set $n (i32.const 7)))
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (i32.store8 (i32.const 0) (i32.add (i32.const 48) (global.get $n)))
	    (drop (call $write (i32.const 0) (i32.const 1))) (i32.const 0)))`)
}

// TestArtifactsFollowLiveVersions: 50 redeploys of a function with a new
// module each time, five of a pre-initialized one with a new
// configuration each time (a new snapshot, and an instrumented module
// compiled on the way), then removing the first: the artifact directory
// holds exactly the modules of the live versions. A restart collects
// what a crash may have left (an unreferenced artifact, one of another
// engine build, a temporary file), keeps the rest and compiles nothing.
func TestArtifactsFollowLiveVersions(t *testing.T) {
	dir := t.TempDir()
	// One version kept per function: no earlier version holds artifacts
	// (versions_test.go tests what kept versions hold).
	n := testutil.StartNode(t, dir, ownArtifacts, keepOne)
	cl := testutil.Client(n)
	deploy(t, n, "keeper", text(t, "kept"), "/keep")
	for i := range 50 {
		deploy(t, n, "churn", text(t, fmt.Sprintf("version %d", i)), "/churn")
	}
	for i := range 5 {
		if _, _, err := cl.Deploy(ctx, "snap", reactor(t), client.DeployOptions{Routes: []string{"/snap"},
			Config: map[string]string{"ROUND": fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if r := testutil.Get(t, n.PublicURL()+"/churn"); r.Body != "version 49" {
		t.Fatalf("/churn: %+v", r)
	}
	if r := testutil.Get(t, n.PublicURL()+"/snap"); r.Body != "7" {
		t.Fatalf("/snap: %+v", r)
	}
	live := liveModules(t, n)
	if len(live) != 4 { // keeper, churn, snap and its snapshot
		t.Fatalf("live modules: %v", live)
	}
	if got := artifactFiles(t, dir); strings.Join(got, ",") != strings.Join(live, ",") {
		t.Fatalf("after the redeploys the artifacts are\n%v\nthe live versions use\n%v", got, live)
	}
	if err := cl.Delete(ctx, "churn"); err != nil {
		t.Fatal(err)
	}
	live = liveModules(t, n)
	got := artifactFiles(t, dir)
	if len(got) != 3 || strings.Join(got, ",") != strings.Join(live, ",") {
		t.Fatalf("after removing churn the artifacts are\n%v\nthe live versions use\n%v", got, live)
	}
	t.Logf("artifact files after 50 redeploys, 5 re-snapshots and one removal: %d (live modules: %d)", len(got), len(live))
	n.Close()

	// Leftovers of a crash, and a file that is not an artifact.
	art := filepath.Join(dir, "artifacts")
	some, err := filepath.Glob(filepath.Join(art, live[0]+"-*.cwasm"))
	if err != nil || len(some) != 1 {
		t.Fatalf("artifact of %s: %v %v", live[0], some, err)
	}
	suffix := strings.TrimPrefix(filepath.Base(some[0]), live[0])
	orphan := strings.Repeat("ab", 32)
	for name, content := range map[string]string{
		orphan + suffix:                   "orphan",
		orphan + "-wt38.0.0-old-v1.cwasm": "stale",
		".tmp-123456":                     "half written",
		"NOTES.txt":                       "not an artifact",
	} {
		if err := os.WriteFile(filepath.Join(art, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n2 := testutil.StartNode(t, dir, ownArtifacts, keepOne)
	if c := n2.Engine.Stats().Compiles; c != 0 {
		t.Errorf("the restart compiled %d modules", c)
	}
	if got := artifactFiles(t, dir); strings.Join(got, ",") != strings.Join(live, ",") {
		t.Errorf("after the restart the artifacts are\n%v\nwant\n%v", got, live)
	}
	for _, name := range []string{".tmp-123456", orphan + "-wt38.0.0-old-v1.cwasm"} {
		if _, err := os.Stat(filepath.Join(art, name)); err == nil {
			t.Errorf("%s survived the restart", name)
		}
	}
	if _, err := os.Stat(filepath.Join(art, "NOTES.txt")); err != nil {
		t.Errorf("a file that is not an artifact was deleted: %v", err)
	}
	if r := testutil.Get(t, n2.PublicURL()+"/snap"); r.Body != "7" {
		t.Fatalf("/snap after the restart: %+v", r)
	}
}

// gate is a handler that waits until the key "go" exists in its
// namespace, then answers body.
func gate(t testing.TB, body string) []byte {
	return testutil.WAT(t, fmt.Sprintf(`(module
	  (import "wedge_v1" "kv_get" (func $get (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (data (i32.const 0) "go")
	  (data (i32.const 16) %q)
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (block $open (loop $wait
	      (br_if $open (i32.ge_s (call $get (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 2)
	        (i32.const 64) (i32.const 8) (i32.const 0)) (i32.const 0)))
	      (br $wait)))
	    (drop (call $write (i32.const 16) (i32.const %d)))
	    (i32.const 0)))`, body, len(body)))
}

// TestInFlightRequestSurvivesReplace: a request running on a version
// whose native code is mapped from its artifact completes after the
// version is replaced; its artifact stays while the request holds the
// module, and is deleted when the request releases it.
func TestInFlightRequestSurvivesReplace(t *testing.T) {
	dir := t.TempDir()
	n := testutil.StartNode(t, dir, ownArtifacts, keepOne)
	cl := testutil.Client(n)
	opts := client.DeployOptions{Routes: []string{"/gate"}, TimeoutMS: 60_000}
	v1, _, err := cl.Deploy(ctx, "gate", gate(t, "one"), opts)
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	// After a restart the module is mapped from its artifact file.
	n = testutil.StartNode(t, dir, ownArtifacts, keepOne)
	cl = testutil.Client(n)
	if f, err := cl.Get(ctx, "gate"); err != nil || !f.FromCache {
		t.Fatalf("not loaded from its artifact: %+v %v", f, err)
	}
	done := make(chan testutil.Response, 1)
	go func() { done <- testutil.Get(t, n.PublicURL()+"/gate") }()
	testutil.Eventually(t, 30*time.Second, "the request to run", func() bool { return n.Engine.Stats().InstancesNow == 1 })

	v2, _, err := cl.Deploy(ctx, "gate", gate(t, "two"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := artifactFiles(t, dir); strings.Join(got, ",") != strings.Join(sorted(v1.SHA256, v2.SHA256), ",") {
		t.Fatalf("while the old version runs a request, the artifacts are %v; want both versions'", got)
	}
	if _, err := cl.KVPut(ctx, "gate", "go", []byte("1"), client.KVPutOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.Status != 200 || r.Body != "one" {
			t.Fatalf("the in-flight request: %d %q", r.Status, r.Body)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the in-flight request did not complete")
	}
	testutil.Eventually(t, 10*time.Second, "the old version's artifact to go", func() bool {
		return strings.Join(artifactFiles(t, dir), ",") == v2.SHA256
	})
	if r := testutil.Get(t, n.PublicURL()+"/gate"); r.Status != 200 || r.Body != "two" {
		t.Fatalf("the new version: %d %q", r.Status, r.Body)
	}
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}
