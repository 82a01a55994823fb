package cluster

import (
	"slices"
	"testing"
	"time"
)

// TestTakeOverFence: a node that starts serving a function owns none of
// its keys in its own view until the node serving them has counted it
// as an owner (at once, on the take-over request), drained its pinned
// requests and been repaired from: a record written there and never
// gossiped is on the taker before it owns a key.
func TestTakeOverFence(t *testing.T) {
	const settle = 300 * time.Millisecond
	nodes := startCluster(t, 2, func(c *Config) { c.OwnerSettle = settle })
	waitMembers(t, nodes, 2)
	a, b := nodes[0], nodes[1]
	drained := make(chan struct{})
	draining := make(chan struct{}, 1)
	a.c.SetHandover(Handover{
		Namespaces: func(string) ([]string, bool) { return []string{"f-ns"}, true },
		Drain: func(string) {
			draining <- struct{}{}
			<-drained
		},
	})
	b.c.SetHandover(Handover{Namespaces: func(string) ([]string, bool) { return []string{"f-ns"}, true }, Drain: func(string) {}})
	const keys = 40
	only := func(name string) []string { return slices.Repeat([]string{name}, keys) }
	a.c.SetServing([]string{"f"}, "f")
	if got := owners(a.c, "f", keys); !slices.Equal(got, only("node-0")) {
		t.Fatalf("the deploying node does not own every key at once: %v", got)
	}
	// A write on node-0 that gossip never carries: only the take-over's
	// repair brings it to node-1.
	a.kv.mu.Lock()
	pub := a.kv.publish
	a.kv.publish = nil
	a.kv.mu.Unlock()
	last := a.kv.put("f-ns", "counter", []byte("41"))
	a.kv.mu.Lock()
	a.kv.publish = pub
	a.kv.mu.Unlock()

	b.c.SetServing([]string{"f"})
	select {
	case <-draining:
	case <-time.After(10 * time.Second):
		t.Fatal("node-1 never asked node-0 to hand over")
	}
	// node-0 drains: it already counts node-1 as an owner; node-1 owns
	// nothing in its own view yet.
	if got := owners(a.c, "f", keys); !slices.Contains(got, "node-1") {
		t.Fatalf("node-0 still owns every key while it drains for node-1: %v", got)
	}
	if got := owners(b.c, "f", keys); !slices.Equal(got, only("node-0")) {
		t.Fatalf("node-1 owns keys before node-0 drained: %v", got)
	}
	time.Sleep(2 * settle) // past node-1's settle instant: still fenced
	if got := owners(b.c, "f", keys); !slices.Equal(got, only("node-0")) {
		t.Fatalf("node-1 owns keys before node-0 drained, past its settle instant: %v", got)
	}
	if b.kv.has(last) {
		t.Fatal("the ungossiped write reached node-1 before the repair")
	}
	close(drained)
	eventually(t, 10*time.Second, "node-1 an owner in its own view", func() bool {
		return slices.Equal(owners(b.c, "f", keys), owners(a.c, "f", keys))
	})
	if !b.kv.has(last) {
		t.Fatal("node-1 owns keys without the previous owner's last write")
	}
}

// TestTakeOverAlone: a node alone owns the keys of a function it
// installs without any fence.
func TestTakeOverAlone(t *testing.T) {
	n := startNode(t, "n")
	n.c.SetHandover(Handover{Namespaces: func(string) ([]string, bool) { return nil, true }, Drain: func(string) {}})
	n.c.SetServing([]string{"f"})
	if m, ok := n.c.FunctionOwner("f", "k"); !ok || m.Name != "n" {
		t.Fatalf("a node alone is not the owner at once: %v %v", m.Name, ok)
	}
	eventually(t, 5*time.Second, "synced", func() bool { return n.c.selfSynced("f") })
}
