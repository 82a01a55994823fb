package node_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/node"
)

// TestClusterAffinity: requests under a function's affinity pattern are
// served by one node per key, whichever node they arrive at; keys spread
// over the nodes; other paths are served where they arrive.
func TestClusterAffinity(t *testing.T) {
	n1 := clusterNode(t, "n1", nil, testKey)
	n2 := clusterNode(t, "n2", n1, testKey)
	n3 := clusterNode(t, "n3", n1, testKey)
	nodes := []*node.Node{n1, n2, n3}
	testutil.Eventually(t, 5*time.Second, "3 alive members everywhere", func() bool {
		return alive(n1) == 3 && alive(n2) == 3 && alive(n3) == 3
	})
	if _, _, err := testutil.Client(n2).Deploy(ctx, "keyed", text(t, "ok"), client.DeployOptions{
		Routes: []string{"/k/...", "/free"}, Affinity: "/k/*"}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the function installed on every node", func() bool {
		for _, n := range nodes {
			if r := testutil.Get(t, n.PublicURL()+"/free"); r.Body != "ok" || r.Header.Get("X-Wedge-Served-By") != "" {
				return false
			}
		}
		return true
	})
	owners := map[string]int{}
	for i := range 24 {
		path := "/k/key" + string(rune('a'+i)) + "/sub"
		owner, forwardedTo := "", map[string]bool{}
		for _, n := range nodes {
			r := testutil.Get(t, n.PublicURL()+path)
			if r.Status != 200 || r.Body != "ok" {
				t.Fatalf("%s on %s: %d %q", path, n.Config.NodeName, r.Status, r.Body)
			}
			if by := r.Header.Get("X-Wedge-Served-By"); by != "" {
				forwardedTo[by] = true
			} else {
				if owner != "" {
					t.Fatalf("%s served locally by two nodes", path)
				}
				owner = n.Gateway.PublicAddr()
			}
		}
		if owner == "" || len(forwardedTo) != 1 || !forwardedTo[owner] {
			t.Fatalf("%s: owner %q, others forwarded to %v", path, owner, forwardedTo)
		}
		owners[owner]++
	}
	if len(owners) < 2 {
		t.Fatalf("24 keys all owned by one node: %v", owners)
	}
	// No key, no affinity.
	for _, n := range nodes {
		if r := testutil.Get(t, n.PublicURL()+"/k"); r.Status != 200 || r.Header.Get("X-Wedge-Served-By") != "" {
			t.Fatalf("/k on %s: %d, served by %q", n.Config.NodeName, r.Status, r.Header.Get("X-Wedge-Served-By"))
		}
	}
	var total int
	for _, n := range nodes {
		m := testutil.Do(t, "GET", n.AdminURL()+"/metrics", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
		for _, line := range strings.Split(m.Body, "\n") {
			if v, ok := strings.CutPrefix(line, "wedge_affinity_forwarded_total "); ok && v != "0" {
				total++
			}
		}
	}
	if total == 0 {
		t.Error("no node counted an affinity forward")
	}
	// A bad pattern is refused at deploy.
	if _, _, err := testutil.Client(n1).Deploy(ctx, "bad", text(t, "x"), client.DeployOptions{Routes: []string{"/b/..."}, Affinity: "/b"}); err == nil ||
		!strings.Contains(err.Error(), "affinity") {
		t.Fatalf("deploy with affinity /b: %v", err)
	}
}

// TestClusterSaturationForwarding: a saturated node hands a request to a
// peer, except one pinned to a key it owns, which it sheds (503) rather
// than let another node serve it.
func TestClusterSaturationForwarding(t *testing.T) {
	start := func(name string, join *node.Node) *node.Node {
		return testutil.StartNode(t, "", func(c *node.Config) {
			c.NodeName, c.GossipAddr, c.ClusterPreset, c.ClusterKey = name, "127.0.0.1:0", "local", testKey
			c.MaxConcurrency, c.QueueWait = 1, 5*time.Millisecond
			if join != nil {
				c.Join = []string{join.Cluster.Addr()}
			}
		})
	}
	n1 := start("n1", nil)
	n2 := start("n2", n1)
	testutil.Eventually(t, 5*time.Second, "2 alive members", func() bool { return alive(n1) == 2 && alive(n2) == 2 })
	// About a tenth of a second of work per request.
	busy := guest(t, `(data (i32.const 0) "done")`, `(local $i i32)
	  (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 150000000))))
	  (drop (call $write (i32.const 0) (i32.const 4))) (i32.const 0)`)
	if _, _, err := testutil.Client(n1).Deploy(ctx, "busy", busy, client.DeployOptions{Routes: []string{"/busy/..."}, Affinity: "/busy/pinned/*"}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "busy on both nodes", func() bool {
		r := testutil.Get(t, n2.PublicURL()+"/busy/x")
		return r.Body == "done" && r.Header.Get("X-Wedge-Served-By") == ""
	})
	key := ""
	for i := range 100 {
		if k := fmt.Sprint("k", i); n1.Cluster.Owner("busy/"+k) == "n1" {
			key = k
			break
		}
	}
	burst := func(path string) []testutil.Response {
		out := make([]testutil.Response, 4)
		var wg sync.WaitGroup
		for i := range out {
			wg.Go(func() { out[i] = testutil.Get(t, n1.PublicURL()+path) })
		}
		wg.Wait()
		return out
	}
	forwarded := 0
	for _, r := range burst("/busy/x") {
		if r.Status == 200 && r.Header.Get("X-Wedge-Served-By") == n2.Gateway.PublicAddr() {
			forwarded++
		}
	}
	if forwarded == 0 {
		t.Fatal("a saturated node forwarded none of 4 concurrent requests")
	}
	shed := 0
	for _, r := range burst("/busy/pinned/" + key) {
		if by := r.Header.Get("X-Wedge-Served-By"); by != "" {
			t.Fatalf("a request pinned to n1 was served by %s", by)
		}
		if r.Status == 503 {
			shed++
		}
	}
	if shed == 0 {
		t.Fatal("4 concurrent pinned requests on a node with one slot: none shed")
	}
}
