package node_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/cli"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

// TestAppRollbackIsOneChangeOnEveryNode: an app of two functions is
// deployed to a cluster of three, then again, and rolled back (the first
// time with `wedge rollback --app` through node 1, then through each
// node in turn, five times in all). On every node, each change of the
// app's functions the registry applies leaves both functions on the same
// version (they switch in one change, never one after the other), and
// clients polling /a, /b, /a on every node never see b on one version
// while a is on the other both before and after. The time from the
// rollback call to every node serving the old version of both is
// logged (median of 5).
func TestAppRollbackIsOneChangeOnEveryNode(t *testing.T) {
	n1 := clusterNode(t, "n1", nil, testKey)
	n2 := clusterNode(t, "n2", n1, testKey)
	n3 := clusterNode(t, "n3", n1, testKey)
	nodes := []*node.Node{n1, n2, n3}
	testutil.Eventually(t, 5*time.Second, "3 alive members everywhere", func() bool {
		return alive(n1) == 3 && alive(n2) == 3 && alive(n3) == 3
	})
	// Each node notes, after every applied change that puts a or b on
	// the version rolled back to, the version of both as the live table
	// has them.
	var observing atomic.Int64
	var mu sync.Mutex
	seen := make([][][2]int64, len(nodes))
	for i, n := range nodes {
		n.Registry.OnChange(func(rec model.Function, _ bool) {
			if v := observing.Load(); v == 0 || rec.App != "shop" || rec.Version != v {
				return
			}
			a, _ := n.Registry.Get("a")
			b, _ := n.Registry.Get("b")
			mu.Lock()
			seen[i] = append(seen[i], [2]int64{a.Record.Version, b.Record.Version})
			mu.Unlock()
		})
	}
	dir := t.TempDir()
	deployVersion := func(v int) {
		t.Helper()
		src := "[app]\nname = \"shop\"\n"
		for _, f := range []string{"a", "b"} {
			if err := os.WriteFile(filepath.Join(dir, f+".wasm"), text(t, fmt.Sprintf("%s %d", f, v)), 0o644); err != nil {
				t.Fatal(err)
			}
			src += fmt.Sprintf("\n[functions.%s]\nmodule = \"%s.wasm\"\nroutes = [\"/%s\"]\n", f, f, f)
		}
		if err := os.WriteFile(filepath.Join(dir, "wedge.toml"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := deployManifest(t, n1, dir); err != nil {
			t.Fatal(err)
		}
	}
	everywhere := func(v int) func() bool {
		want := strconv.Itoa(v)
		return func() bool {
			for _, n := range nodes {
				for _, f := range []string{"a", "b"} {
					if body, got, here := servedHere(t, n, "/"+f); !here || got != want || body != f+" "+want {
						return false
					}
				}
			}
			return true
		}
	}
	deployVersion(1)
	testutil.Eventually(t, 30*time.Second, "version 1 everywhere", everywhere(1))
	var times []time.Duration
	for i := range 5 {
		newer, older := i+2, i+1 // the rollback goes back to the version before the app's last deploy
		deployVersion(newer)
		testutil.Eventually(t, 30*time.Second, fmt.Sprintf("version %d everywhere", newer), everywhere(newer))
		mu.Lock()
		for j := range seen {
			seen[j] = nil
		}
		mu.Unlock()
		observing.Store(int64(older))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mixed []string
		var polls atomic.Int64
		for _, n := range nodes {
			wg.Go(func() {
				for k := 0; k < 3000; k++ {
					select {
					case <-stop:
						return
					default:
					}
					_, a1, here1 := servedHere(t, n, "/a")
					_, b, here2 := servedHere(t, n, "/b")
					_, a2, here3 := servedHere(t, n, "/a")
					if !here1 || !here2 || !here3 {
						continue // forwarded to a peer (this node saturated): not this node's state
					}
					polls.Add(1)
					ok := map[string]bool{strconv.Itoa(newer): true, strconv.Itoa(older): true}
					if !ok[a1] || !ok[b] || !ok[a2] || (a1 == a2 && b != a1) {
						mu.Lock()
						mixed = append(mixed, fmt.Sprintf("%s: a %s, b %s, a %s", n.Config.NodeName, a1, b, a2))
						mu.Unlock()
					}
				}
			})
		}
		time.Sleep(100 * time.Millisecond)
		start := time.Now()
		if i == 0 {
			var out, errb bytes.Buffer
			code := cli.Run([]string{"rollback", "--app", "shop", "--admin", n1.AdminURL(), "--token", testutil.Token}, strings.NewReader(""), &out, &errb)
			if code != 0 {
				t.Fatalf("wedge rollback --app shop: exit %d\n%s%s", code, out.String(), errb.String())
			}
			testutil.Contains(t, out.String(), "a: rolled back (version 1)", "b: rolled back (version 1)")
		} else if cs, err := testutil.Client(nodes[i%3]).RollbackApp(ctx, "shop"); err != nil || len(cs) != 2 {
			t.Fatalf("app rollback through %s: %+v %v", nodes[i%3].Config.NodeName, cs, err)
		}
		testutil.Eventually(t, 15*time.Second, fmt.Sprintf("version %d everywhere after the rollback", older), everywhere(older))
		times = append(times, time.Since(start))
		testutil.Eventually(t, 10*time.Second, "every node's registry noting the rollback", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, obs := range seen {
				if len(obs) == 0 {
					return false
				}
			}
			return true
		})
		close(stop)
		wg.Wait()
		observing.Store(0)
		if len(mixed) > 0 {
			t.Fatalf("rollback %d: %d mixed observations over %d polls, first: %s", i+1, len(mixed), polls.Load(), mixed[0])
		}
		mu.Lock()
		for j, obs := range seen {
			if len(obs) == 0 {
				t.Errorf("rollback %d: %s applied no change of the app", i+1, nodes[j].Config.NodeName)
			}
			for _, o := range obs {
				if o[0] != o[1] || o[0] != int64(older) {
					t.Errorf("rollback %d: %s applied a change leaving a on version %d and b on %d (all seen: %v)", i+1, nodes[j].Config.NodeName, o[0], o[1], obs)
					break
				}
			}
		}
		mu.Unlock()
		if t.Failed() {
			t.FailNow()
		}
		t.Logf("rollback %d: every node on version %d after %v (%d polls of /a /b /a)", i+1, older, times[i].Round(time.Millisecond), polls.Load())
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("app rollback to every node of 3: median %v (min %v, max %v)", times[2], times[0], times[4])
}

// servedHere asks n for path and returns the body, the X-Wedge-Version
// header and whether n answered itself (not a peer it forwarded to).
func servedHere(t testing.TB, n *node.Node, path string) (string, string, bool) {
	r := testutil.Get(t, n.PublicURL()+path)
	return r.Body, r.Header.Get("X-Wedge-Version"), r.Header.Get("X-Wedge-Served-By") == ""
}

// versionList is a function's kept versions as a node lists them: what
// must be the same on every node.
func versionList(t *testing.T, n *node.Node, name string) string {
	vs, err := testutil.Client(n).Versions(ctx, name)
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%d %.8s %s %s", v.Version, v.SHA256, v.DeployedBy, v.Deployed.Format(time.RFC3339Nano)))
	}
	return strings.Join(out, "; ")
}

// TestVersionsReachLateNode: with 3 versions kept, four deploys to two
// nodes keep versions 2 to 4; a third node started afterwards lists the
// same versions, and a rollback to version 2 through it (whose module
// it never had: fetched from a peer) is served by all three. The next
// deploy leaves 3 to 5 kept everywhere, and version 2's module is
// collected on every node, the late one included.
func TestVersionsReachLateNode(t *testing.T) {
	keep3 := func(c *node.Config) { c.KeepVersions = 3 }
	n1 := clusterNode(t, "n1", nil, testKey, keep3)
	n2 := clusterNode(t, "n2", n1, testKey, keep3)
	testutil.Eventually(t, 5*time.Second, "2 alive members", func() bool { return alive(n1) == 2 && alive(n2) == 2 })
	serves := func(nodes []*node.Node, v int) func() bool {
		want := strconv.Itoa(v)
		return func() bool {
			for _, n := range nodes {
				if body, got, here := servedHere(t, n, "/late"); !here || got != want || body != "late "+want {
					return false
				}
			}
			return true
		}
	}
	var shas []string
	for v := 1; v <= 4; v++ {
		shas = append(shas, deploy(t, n1, "late", text(t, fmt.Sprintf("late %d", v)), "/late").SHA256)
		testutil.Eventually(t, 15*time.Second, fmt.Sprintf("version %d on both", v), serves([]*node.Node{n1, n2}, v))
	}
	want := versionList(t, n1, "late")
	if !strings.HasPrefix(want, "4 ") || strings.Count(want, ";") != 2 || !strings.Contains(want, "; 2 ") {
		t.Fatalf("versions on n1: %s, want 4, 3, 2", want)
	}
	if got := versionList(t, n2, "late"); got != want {
		t.Fatalf("versions on n2: %s\nwant (n1): %s", got, want)
	}

	n3 := clusterNode(t, "n3", n1, testKey, keep3)
	nodes := []*node.Node{n1, n2, n3}
	testutil.Eventually(t, 30*time.Second, "version 4 on the late node", serves([]*node.Node{n3}, 4))
	testutil.Eventually(t, 10*time.Second, "the same versions on the late node", func() bool { return versionList(t, n3, "late") == want })
	if n3.DB.HasBlob(shas[1]) {
		t.Fatal("the late node holds version 2's module before any rollback asked for it")
	}
	start := time.Now()
	f, err := testutil.Client(n3).Rollback(ctx, "late", 2)
	if err != nil || f.Version != 2 || f.SHA256 != shas[1] {
		t.Fatalf("rollback to 2 through the late node: %+v %v", f, err)
	}
	testutil.Eventually(t, 15*time.Second, "version 2 on every node", serves(nodes, 2))
	t.Logf("rollback through the late node served by all 3 after %v", time.Since(start).Round(time.Millisecond))
	for _, n := range nodes {
		if got := versionList(t, n, "late"); got != want {
			t.Errorf("versions on %s after the rollback: %s\nwant: %s", n.Config.NodeName, got, want)
		}
	}

	// The next deploy drops version 2 from the window everywhere, with
	// its module (the late node's fetched copy included).
	deploy(t, n1, "late", text(t, "late 5"), "/late")
	testutil.Eventually(t, 15*time.Second, "version 5 on every node", serves(nodes, 5))
	want = versionList(t, n1, "late")
	if !strings.HasPrefix(want, "5 ") || strings.Count(want, ";") != 2 || !strings.Contains(want, "; 3 ") {
		t.Fatalf("versions on n1 after version 5: %s, want 5, 4, 3", want)
	}
	testutil.Eventually(t, 10*time.Second, "versions 5, 4, 3 on every node", func() bool {
		return versionList(t, n2, "late") == want && versionList(t, n3, "late") == want
	})
	for _, n := range nodes {
		for v, sha := range shas[:2] {
			if n.DB.HasBlob(sha) {
				t.Errorf("%s still holds the module of version %d, out of the window", n.Config.NodeName, v+1)
			}
		}
		if _, err := testutil.Client(n).Rollback(ctx, "late", 2); !client.IsStatus(err, 404) {
			t.Errorf("rollback to a collected version through %s: %v, want 404", n.Config.NodeName, err)
		}
	}
}
