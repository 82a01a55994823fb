package node_test

import (
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestClusterForwardsWhileInstalling: a node that learned of a function
// but is still fetching and compiling its module forwards requests for
// it to the node it came from, instead of answering 404; once installed
// it serves them itself.
func TestClusterForwardsWhileInstalling(t *testing.T) {
	held := make(chan string, 4)
	release := make(chan struct{})
	node.HoldInstall(t, func(name string) {
		if name != "slow" {
			return
		}
		held <- name
		select {
		case <-release:
		case <-time.After(20 * time.Second):
		}
	})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	n1 := clusterNode(t, "n1", nil, testKey)
	n2 := clusterNode(t, "n2", n1, testKey)
	testutil.Eventually(t, 5*time.Second, "2 alive members", func() bool { return alive(n1) == 2 && alive(n2) == 2 })
	// A catch-all, installed everywhere first, must not answer for the
	// more specific function still on its way.
	deploy(t, n1, "catchall", text(t, "catch-all"), "/...")
	testutil.Eventually(t, 5*time.Second, "the catch-all on n2", func() bool {
		return testutil.Get(t, n2.PublicURL()+"/anything").Body == "catch-all"
	})

	deploy(t, n1, "slow", text(t, "served"), "/slow/...")
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("n2 never started installing the function")
	}
	for range 5 {
		r := testutil.Get(t, n2.PublicURL()+"/slow/x")
		if r.Status != 200 || r.Body != "served" {
			t.Fatalf("while installing: %d %q, want the origin's answer", r.Status, r.Body)
		}
		if by := r.Header.Get("X-Wedge-Served-By"); by != n1.Gateway.PublicAddr() {
			t.Fatalf("served by %q, want n1 (%s)", by, n1.Gateway.PublicAddr())
		}
	}
	if r := testutil.Get(t, n2.PublicURL()+"/other"); r.Body != "catch-all" || r.Header.Get("X-Wedge-Served-By") != "" {
		t.Fatalf("an unrelated path: %d %q, want the local catch-all", r.Status, r.Body)
	}
	// A request that was already forwarded once is not forwarded again.
	r := testutil.Do(t, "GET", n2.PublicURL()+"/slow/x", nil, map[string]string{"X-Wedge-Forwarded": "n9"})
	if r.Status != 503 || r.Header.Get("X-Wedge-Error") != "installing" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("forwarded request for a function being installed: %d %v %q, want 503 installing", r.Status, r.Header, r.Body)
	}
	close(release)
	testutil.Eventually(t, 5*time.Second, "n2 to serve the function itself", func() bool {
		r := testutil.Get(t, n2.PublicURL()+"/slow/x")
		return r.Status == 200 && r.Body == "served" && r.Header.Get("X-Wedge-Served-By") == ""
	})
}

// TestClusterInstallsShippedSnapshot: a node installing a function from
// a peer takes the origin's deploy-time snapshot with the module and
// compiles only it, instead of compiling the module, running its
// initializer and compiling the snapshot again.
func TestClusterInstallsShippedSnapshot(t *testing.T) {
	start := func(name string, join *node.Node) *node.Node {
		return testutil.StartNode(t, "", func(c *node.Config) {
			c.NodeName, c.GossipAddr, c.ClusterPreset, c.ClusterKey = name, "127.0.0.1:0", "local", testKey
			c.ArtifactDir = t.TempDir() // its own: every compilation counts
			if join != nil {
				c.Join = []string{join.Cluster.Addr()}
			}
		})
	}
	n1 := start("n1", nil)
	n2 := start("n2", n1)
	testutil.Eventually(t, 5*time.Second, "2 alive members", func() bool { return alive(n1) == 2 && alive(n2) == 2 })
	// _initialize writes the byte the handler answers: served from the
	// snapshot, the answer is "i" without running it again.
	reactor := testutil.WAT(t, `(module
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (func (export "_initialize") (i32.store8 (i32.const 0) (i32.const 105)))
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (drop (call $write (i32.const 0) (i32.const 1))) (i32.const 0)))`)
	deploy(t, n1, "reactor", reactor, "/reactor")
	f1, ok := n1.Registry.Get("reactor")
	if !ok || f1.Record.Snapshot == nil {
		t.Fatal("no snapshot on the origin")
	}
	testutil.Eventually(t, 20*time.Second, "the function served by n2 itself", func() bool {
		r := testutil.Get(t, n2.PublicURL()+"/reactor")
		return r.Status == 200 && r.Body == "i" && r.Header.Get("X-Wedge-Served-By") == ""
	})
	f2, _ := n2.Registry.Get("reactor")
	if f2.Record.Snapshot == nil || f2.Record.Snapshot.SHA256 != f1.Record.Snapshot.SHA256 || f2.Record.SHA256 != f1.Record.SHA256 {
		t.Fatalf("n2 serves %+v (snapshot %+v), want the origin's module and snapshot %s", f2.Record.SHA256, f2.Record.Snapshot, f1.Record.Snapshot.SHA256)
	}
	if got := n2.Engine.Stats().Compiles; got != 1 {
		t.Fatalf("n2 compiled %d modules to install one function, want 1 (the shipped snapshot)", got)
	}
}
