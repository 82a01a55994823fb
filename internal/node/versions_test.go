package node_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// servedBy asks n for path and returns the body and the X-Wedge-Version
// header.
func servedBy(t testing.TB, n *node.Node, path string) (string, string) {
	r := testutil.Get(t, n.PublicURL()+path)
	return r.Body, r.Header.Get("X-Wedge-Version")
}

// TestVersionsAndRollback: three deploys are listed newest first with
// who deployed them; a rollback with no version goes to the previous
// one, an explicit one to that version, both served at once with their
// number in X-Wedge-Version and loaded from their kept artifacts, not
// compiled; the next deploy is numbered after the highest; past
// --keep-versions the oldest versions go, with their blobs and
// artifacts.
func TestVersionsAndRollback(t *testing.T) {
	dir := t.TempDir()
	n := testutil.StartNode(t, dir, ownArtifacts, func(c *node.Config) { c.KeepVersions = 3 })
	cl := testutil.Client(n)
	var shas []string
	for _, body := range []string{"one", "two", "three"} {
		shas = append(shas, deploy(t, n, "app", text(t, body), "/v").SHA256)
	}
	vs, err := cl.Versions(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || vs[0].Version != 3 || vs[2].Version != 1 || !vs[0].Active || vs[1].Active ||
		vs[1].SHA256 != shas[1] || vs[2].DeployedBy != "admin" || vs[2].Deployed.IsZero() || vs[2].Routes[0] != "/v" {
		t.Fatalf("versions: %+v", vs)
	}
	if b, v := servedBy(t, n, "/v"); b != "three" || v != "3" {
		t.Fatalf("before the rollback: %q version %q", b, v)
	}
	compiles := n.Engine.Stats().Compiles
	f, err := cl.Rollback(ctx, "app", 0)
	if err != nil || f.Version != 2 || f.SHA256 != shas[1] || f.RolledBackBy != "admin" {
		t.Fatalf("rollback to the previous: %+v %v", f, err)
	}
	if b, v := servedBy(t, n, "/v"); b != "two" || v != "2" {
		t.Fatalf("after rolling back: %q version %q", b, v)
	}
	if f, err := cl.Rollback(ctx, "app", 1); err != nil || f.Version != 1 {
		t.Fatalf("rollback to 1: %+v %v", f, err)
	}
	if b, v := servedBy(t, n, "/v"); b != "one" || v != "1" {
		t.Fatalf("after rolling back to 1: %q version %q", b, v)
	}
	if c := n.Engine.Stats().Compiles; c != compiles {
		t.Errorf("two rollbacks compiled %d modules", c-compiles)
	}
	if g, err := cl.Get(ctx, "app"); err != nil || !g.FromCache {
		t.Errorf("the rolled back version is not served from its artifact: %+v %v", g, err)
	}
	if _, err := cl.Rollback(ctx, "app", 0); !client.IsStatus(err, 404) {
		t.Errorf("rollback before the oldest: %v, want 404", err)
	}
	if _, err := cl.Rollback(ctx, "app", 9); !client.IsStatus(err, 404) {
		t.Errorf("rollback to a version never deployed: %v, want 404", err)
	}
	if _, err := cl.Rollback(ctx, "nope", 0); !client.IsStatus(err, 404) {
		t.Errorf("rollback of an unknown function: %v, want 404", err)
	}
	// Rolling back adds no version; the next deploy comes after the
	// highest, and with 3 kept, versions 1 and 2 go.
	if f := deploy(t, n, "app", text(t, "four"), "/v"); f.Version != 4 {
		t.Fatalf("deploy after the rollbacks: version %d, want 4", f.Version)
	}
	if f := deploy(t, n, "app", text(t, "five"), "/v"); f.Version != 5 {
		t.Fatalf("next deploy: version %d, want 5", f.Version)
	}
	vs, _ = cl.Versions(ctx, "app")
	var nums []int64
	for _, v := range vs {
		nums = append(nums, v.Version)
	}
	if fmt.Sprint(nums) != "[5 4 3]" {
		t.Fatalf("kept versions %v, want [5 4 3]", nums)
	}
	for i, sha := range shas {
		kept := i == 2
		if n.DB.HasBlob(sha) != kept {
			t.Errorf("blob of version %d kept=%v, want %v", i+1, !kept, kept)
		}
		if slices.Contains(artifactFiles(t, dir), sha) != kept {
			t.Errorf("artifact of version %d kept=%v, want %v", i+1, !kept, kept)
		}
	}
	if _, err := cl.Rollback(ctx, "app", 1); !client.IsStatus(err, 404) {
		t.Errorf("rollback to a collected version: %v, want 404", err)
	}
	if f, err := cl.Rollback(ctx, "app", 3); err != nil || f.Version != 3 {
		t.Fatalf("rollback to the oldest kept: %+v %v", f, err)
	}
	if b, v := servedBy(t, n, "/v"); b != "three" || v != "3" {
		t.Fatalf("after rolling back to 3: %q version %q", b, v)
	}
	// A restart serves the active version and keeps the history.
	n.Close()
	n = testutil.StartNode(t, dir, ownArtifacts, func(c *node.Config) { c.KeepVersions = 3 })
	if b, v := servedBy(t, n, "/v"); b != "three" || v != "3" {
		t.Fatalf("after a restart: %q version %q", b, v)
	}
	if vs, _ := testutil.Client(n).Versions(ctx, "app"); len(vs) != 3 || !vs[2].Active {
		t.Fatalf("versions after a restart: %+v", vs)
	}
}

// TestRollbackUnderLoad: 8 clients call a function for about 3 s while
// it is rolled back from version 2 to version 1: every request is
// answered 200, by version 1 or 2 only, with the body of the version
// its header names; once the rollback returned, only version 1 answers.
func TestRollbackUnderLoad(t *testing.T) {
	n := testutil.StartNode(t, "")
	deploy(t, n, "svc", text(t, "body 1"), "/svc")
	deploy(t, n, "svc", text(t, "body 2"), "/svc")
	var (
		mu       sync.Mutex
		count    = map[string]int{}
		bad      []string
		after    int
		afterBad int
		rolled   = make(chan struct{})
		stop     = time.Now().Add(3 * time.Second)
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5000 && time.Now().Before(stop); i++ {
				done := false // this request starts after the rollback returned
				select {
				case <-rolled:
					done = true
				default:
				}
				r := testutil.Get(t, n.PublicURL()+"/svc")
				v := r.Header.Get("X-Wedge-Version")
				mu.Lock()
				count[v]++
				if r.Status != 200 || (v != "1" && v != "2") || r.Body != "body "+v {
					bad = append(bad, fmt.Sprintf("%d %q version %q", r.Status, r.Body, v))
				}
				if done {
					after++
					if v != "1" {
						afterBad++
					}
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1 * time.Second)
	if _, err := testutil.Client(n).Rollback(ctx, "svc", 0); err != nil {
		t.Fatal(err)
	}
	close(rolled)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d bad answers, first: %s", len(bad), bad[0])
	}
	if count["1"] == 0 || count["2"] == 0 || after == 0 || afterBad > 0 {
		t.Fatalf("answers by version %v; after the rollback %d, of them %d not by version 1", count, after, afterBad)
	}
	t.Logf("answers by version: %v (%d after the rollback, all by version 1)", count, after)
}

// TestRollbackReachesCluster: a rollback made on one node of three is
// served by all three, with the same version numbers everywhere, and no
// node compiles anything for it. The time from the rollback call to the
// last node serving the old version is logged (median of 5).
func TestRollbackReachesCluster(t *testing.T) {
	n1 := clusterNode(t, "n1", nil, testKey)
	n2 := clusterNode(t, "n2", n1, testKey)
	n3 := clusterNode(t, "n3", n1, testKey)
	nodes := []*node.Node{n1, n2, n3}
	testutil.Eventually(t, 5*time.Second, "3 alive members everywhere", func() bool {
		return alive(n1) == 3 && alive(n2) == 3 && alive(n3) == 3
	})
	everywhere := func(version int64) func() bool {
		want := strconv.FormatInt(version, 10)
		return func() bool {
			for _, n := range nodes {
				if b, v := servedBy(t, n, "/r"); v != want || b != "release "+want {
					return false
				}
			}
			return true
		}
	}
	deploy(t, n1, "rel", text(t, "release 1"), "/r")
	testutil.Eventually(t, 15*time.Second, "version 1 everywhere", everywhere(1))
	deploy(t, n1, "rel", text(t, "release 2"), "/r")
	testutil.Eventually(t, 15*time.Second, "version 2 everywhere", everywhere(2))
	for _, n := range nodes {
		vs, err := testutil.Client(n).Versions(ctx, "rel")
		if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 {
			t.Fatalf("versions on %s: %+v %v", n.Config.NodeName, vs, err)
		}
	}
	compiles := []uint64{}
	for _, n := range nodes {
		compiles = append(compiles, uint64(n.Engine.Stats().Compiles))
	}
	var times []time.Duration
	for i := range 5 {
		target := int64(1 + i%2) // 1, 2, 1, 2, 1
		via := nodes[(i+1)%3]
		start := time.Now()
		if _, err := testutil.Client(via).Rollback(ctx, "rel", target); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 15*time.Second, fmt.Sprintf("version %d everywhere", target), everywhere(target))
		times = append(times, time.Since(start))
	}
	for i, n := range nodes {
		if c := uint64(n.Engine.Stats().Compiles); c != compiles[i] {
			t.Errorf("%s compiled %d modules for the rollbacks", n.Config.NodeName, c-compiles[i])
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("rollback to every node of 3: median %v (min %v, max %v)", times[2], times[0], times[4])
}

// TestAppRollback: an app deployed twice, the second deploy changing
// two of its three functions, rolls back as a unit: those two return to
// their first versions, the third stays; a function only the last
// deploy made stays (nothing to return to).
func TestAppRollback(t *testing.T) {
	n := testutil.StartNode(t, "")
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), text(t, body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifestFor := func(fns ...string) {
		src := "[app]\nname = \"shop\"\n"
		for _, f := range fns {
			src += fmt.Sprintf("\n[functions.%s]\nmodule = \"%s.wasm\"\nroutes = [\"/%s\"]\n", f, f, f)
		}
		if err := os.WriteFile(filepath.Join(dir, "wedge.toml"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "a1")
	write("b", "b1")
	write("c", "c1")
	manifestFor("a", "b", "c")
	if _, err := deployManifest(t, n, dir); err != nil {
		t.Fatal(err)
	}
	write("a", "a2")
	write("b", "b2")
	write("d", "d1")
	manifestFor("a", "b", "c", "d")
	if cs, err := deployManifest(t, n, dir); err != nil || actions(cs) != "a:updated b:updated c:unchanged d:created" {
		t.Fatalf("second deploy: %v %v", actions(cs), err)
	}
	cs, err := testutil.Client(n).RollbackApp(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(cs); got != "a:rolled back b:rolled back c:unchanged d:kept: new in the last deploy" {
		t.Fatalf("app rollback: %s", got)
	}
	for path, want := range map[string]string{"/a": "a1", "/b": "b1", "/c": "c1", "/d": "d1"} {
		if b, _ := servedBy(t, n, path); b != want {
			t.Errorf("%s after the app rollback: %q, want %q", path, b, want)
		}
	}
}
