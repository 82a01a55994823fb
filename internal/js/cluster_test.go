package js_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestClusterReplicatesScript: a JavaScript function deployed on one
// node is served by a peer, which receives the combined module, finds
// the script in it (js.Split) and snapshots it the same way: both nodes
// serve the same snapshot.
func TestClusterReplicatesScript(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	start := func(name string, join *node.Node) *node.Node {
		return testutil.StartNode(t, "", func(c *node.Config) {
			c.NodeName, c.GossipAddr, c.ClusterPreset, c.ClusterKey = name, "127.0.0.1:0", "local", key
			if join != nil {
				c.Join = []string{join.Cluster.Addr()}
			}
		})
	}
	n1 := start("n1", nil)
	n2 := start("n2", n1)
	if res := putScript(t, n1, "rep", "/rep", "export default { fetch() { return new Response(\"replicated\"); } };"); res.Status != 201 {
		t.Fatalf("deploy: %d %s", res.Status, res.Body)
	}
	// The peer may answer by forwarding before it has installed the
	// function; wait for its own copy. (A liveness bound: installing
	// compiles the 1 MB engine on a busy machine.)
	var f2 client.Function
	testutil.Eventually(t, 60*time.Second, "the function installed on the peer", func() bool {
		f, err := testutil.Client(n2).Get(context.Background(), "rep")
		f2 = f
		return err == nil
	})
	if r := testutil.Get(t, n2.PublicURL()+"/rep"); r.Status != 200 || r.Body != "replicated" {
		t.Fatalf("peer: %d %q", r.Status, r.Body)
	}
	f1, err := testutil.Client(n1).Get(context.Background(), "rep")
	if err != nil {
		t.Fatal(err)
	}
	if f1.SHA256 != f2.SHA256 || f1.Snapshot == nil || f2.Snapshot == nil || f1.Snapshot.SHA256 != f2.Snapshot.SHA256 {
		t.Fatalf("nodes differ: module %s / %s, snapshot %+v / %+v", f1.SHA256, f2.SHA256, f1.Snapshot, f2.Snapshot)
	}
}
