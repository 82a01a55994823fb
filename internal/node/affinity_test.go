package node_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
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
	ownersSettled(t, "keyed", nodes...)
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
	ownersSettled(t, "busy", n1, n2)
	key := ""
	for i := range 100 {
		if k := fmt.Sprint("k", i); owner(n1, "busy", k) == "n1" {
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

// owner is the node that owns key of function in n's view.
func owner(n *node.Node, function, key string) string {
	m, _ := n.Cluster.FunctionOwner(function, function+"/"+key)
	return m.Name
}

// ownersSettled waits until every node sees every other advertising
// function and past its settle time, and each passed its hand-over
// fence: ownership of its keys then no longer moves.
func ownersSettled(t *testing.T, function string, nodes ...*node.Node) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, "every node an owner candidate for "+function+" everywhere", func() bool {
		now := time.Now().UnixMilli()
		for _, n := range nodes {
			seen := 0
			for _, m := range n.Cluster.Members() {
				if at, ok := m.Serving[function]; ok && at <= now && fmt.Sprint(m.State) == "alive" {
					seen++
				}
			}
			if seen != len(nodes) || !n.Cluster.TookOver(function) {
				return false
			}
		}
		return true
	})
}

// TestAffinityOwnerWhileInstalling: while peers are still fetching and
// compiling a function, requests under its affinity are all served by
// the node that has it (no 503 "not installed yet" from a peer chosen as
// owner); as each peer finishes installing, keys move to it, and every
// key is run by one node at a time: the node that runs a key's requests
// changes at most once, and never back. A request that meets the
// hand-over is refused with 503 and Retry-After, never run by a node
// that does not own its key.
func TestAffinityOwnerWhileInstalling(t *testing.T) {
	release := map[string]chan struct{}{"n2": make(chan struct{}), "n3": make(chan struct{})}
	held := make(chan string, 4)
	node.HoldInstallOn(t, func(nodeName, name string) {
		if name != "room" {
			return
		}
		held <- nodeName
		select {
		case <-release[nodeName]:
		case <-time.After(60 * time.Second):
		}
	})
	defer func() {
		for _, c := range release {
			select {
			case <-c:
			default:
				close(c)
			}
		}
	}()
	n1 := clusterNode(t, "n1", nil, testKey)
	n2 := clusterNode(t, "n2", n1, testKey)
	n3 := clusterNode(t, "n3", n1, testKey)
	nodes := []*node.Node{n1, n2, n3}
	byAddr := map[string]string{}
	for _, n := range nodes {
		byAddr[n.Gateway.PublicAddr()] = n.Config.NodeName
	}
	testutil.Eventually(t, 5*time.Second, "3 alive members everywhere", func() bool {
		return alive(n1) == 3 && alive(n2) == 3 && alive(n3) == 3
	})
	if _, _, err := testutil.Client(n1).Deploy(ctx, "room", text(t, "ok"), client.DeployOptions{
		Routes: []string{"/r/..."}, Affinity: "/r/*"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-held:
		case <-time.After(10 * time.Second):
			t.Fatal("the peers never started installing the function")
		}
	}
	const keys = 12
	// ran sends one request for key through n and returns the node that
	// ran it, or "" for a refusal (503 with Retry-After).
	ran := func(n *node.Node, key int) string {
		r := testutil.Get(t, fmt.Sprintf("%s/r/key%d", n.PublicURL(), key))
		switch {
		case r.Status == 200 && r.Body == "ok":
			if by := r.Header.Get("X-Wedge-Served-By"); by != "" {
				return byAddr[by]
			}
			return n.Config.NodeName
		case r.Status == 503 && r.Header.Get("Retry-After") != "":
			return ""
		}
		t.Fatalf("key%d through %s: %d %q", key, n.Config.NodeName, r.Status, r.Body)
		return ""
	}
	// Both peers installing: n1 alone serves every key, from any node.
	for k := range keys {
		for _, n := range nodes {
			if by := ran(n, k); by != "n1" {
				t.Fatalf("while n2 and n3 install, key%d through %s was run by %q, want n1", k, n.Config.NodeName, by)
			}
		}
	}
	// Each peer in turn finishes: every key's requests, sent one after
	// the other through the three nodes in turn, are run by one node,
	// then by another, never back and forth.
	history := make([][]string, keys)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for k := range keys {
		wg.Go(func() {
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if by := ran(nodes[i%3], k); by != "" && (len(history[k]) == 0 || history[k][len(history[k])-1] != by) {
					history[k] = append(history[k], by)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	close(release["n2"])
	ownersSettledAmong(t, "room", nodes, n1, n2)
	close(release["n3"])
	ownersSettled(t, "room", nodes...)
	time.Sleep(200 * time.Millisecond) // requests after the last hand-over
	close(stop)
	wg.Wait()
	final := map[string]int{}
	for k := range keys {
		h := history[k]
		want := owner(n1, "room", fmt.Sprint("key", k))
		if len(h) == 0 || h[0] != "n1" || h[len(h)-1] != want {
			t.Fatalf("key%d was run by %v; want n1 first and its owner %s last", k, h, want)
		}
		seen := map[string]bool{}
		for _, by := range h {
			if seen[by] {
				t.Fatalf("key%d went back to a node it had left: run by %v in turn", k, h)
			}
			seen[by] = true
		}
		final[want]++
	}
	if final["n2"]+final["n3"] == 0 {
		t.Fatalf("no key moved to the peers once they installed the function: %v", final)
	}
}

// ownersSettledAmong waits until every node of nodes sees exactly the
// members in serving as settled owner candidates for function.
func ownersSettledAmong(t *testing.T, function string, nodes []*node.Node, serving ...*node.Node) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, "owner candidates for "+function+" settled", func() bool {
		now := time.Now().UnixMilli()
		for _, n := range nodes {
			seen := 0
			for _, m := range n.Cluster.Members() {
				if at, ok := m.Serving[function]; ok && at <= now {
					seen++
				}
			}
			if seen != len(serving) {
				return false
			}
		}
		for _, n := range serving {
			if !n.Cluster.TookOver(function) {
				return false
			}
		}
		return true
	})
}
