package node_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

// TestLateReplicatedChangeLoses: a version replicated from a peer is
// found newer than the local one when it arrives, then fetched and
// compiled, which takes a while; a local delete or deploy made meanwhile
// is newer still, and the late install must not undo it. It did: the
// install replaced the function and removed its tombstone, so an
// acknowledged delete was lost on every node (found by the cluster
// chaos test, seed 4412556604562196263). A replicated delete that
// arrives late is ignored the same way.
func TestLateReplicatedChangeLoses(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) { c.NodeName = "n" })
	deploy(t, n, "gone", text(t, "v1"), "/gone")
	deploy(t, n, "kept", text(t, "v1"), "/kept")
	// Stamps a peer gave its changes after v1 and before what this node
	// does next: one logical tick after v1, from a node whose name
	// ("a-peer" < "n") loses a tie.
	after := func(name string) hlc.Timestamp {
		f, ok := n.Registry.Get(name)
		if !ok {
			t.Fatalf("%s is not deployed", name)
		}
		return hlc.Timestamp{Wall: f.Record.Stamp.Wall, Logical: f.Record.Stamp.Logical + 1}
	}
	goneStamp, keptStamp := after("gone"), after("kept")

	if _, err := n.Registry.Delete(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	deploy(t, n, "kept", text(t, "v2"), "/kept")

	// The peer's versions, fetched and compiled, now arrive.
	for name, stamp := range map[string]hlc.Timestamp{"gone": goneStamp, "kept": keptStamp} {
		_, _, err := n.Registry.Deploy(context.Background(), registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: name, Routes: []string{"/" + name}}, Wasm: text(t, "late"), Stamp: stamp, Origin: "a-peer"})
		if !errors.Is(err, registry.ErrSuperseded) {
			t.Errorf("late replicated deploy of %s: %v, want ErrSuperseded", name, err)
		}
	}
	if err := n.Registry.DeleteStamped("kept", keptStamp, "a-peer"); err != nil {
		t.Fatal(err)
	}

	if r := testutil.Get(t, n.PublicURL()+"/gone"); r.Status != 404 {
		t.Errorf("/gone after its delete: %d %q, want 404", r.Status, r.Body)
	}
	if r := testutil.Get(t, n.PublicURL()+"/kept"); r.Status != 200 || r.Body != "v2" {
		t.Errorf("/kept after its redeploy: %d %q, want 200 v2", r.Status, r.Body)
	}
	tombs, err := n.DB.Tombstones()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tb := range tombs {
		if tb.Name == "gone" {
			found = tb.Origin == "n" && goneStamp.Less(tb.Stamp)
		}
	}
	if !found {
		t.Errorf("the tombstone of the local delete is gone or replaced: %+v", tombs)
	}
}
