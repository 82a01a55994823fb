package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestOwnerOf(t *testing.T) {
	nodes := []string{"a", "b", "c", "d", "e"}
	if OwnerOf("k", nil) != "" {
		t.Fatal("owner among no nodes")
	}
	const keys = 20000
	owners := make([]string, keys)
	count := map[string]int{}
	for i := range keys {
		k := fmt.Sprintf("schedule/fn-%d/%d", i%97, i)
		owners[i] = OwnerOf(k, nodes)
		count[owners[i]]++
		// the order of the membership list does not matter
		shuffled := slices.Clone(nodes)
		rand.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if got := OwnerOf(k, shuffled); got != owners[i] {
			t.Fatalf("owner of %q depends on order: %s vs %s", k, got, owners[i])
		}
	}
	for _, n := range nodes {
		if share := float64(count[n]) / keys; share < 0.17 || share > 0.23 {
			t.Errorf("node %s owns %.1f%% of the keys", n, 100*share)
		}
	}
	// removing a node moves only its keys; adding it back restores all
	without := []string{"a", "b", "d", "e"}
	moved := 0
	for i := range keys {
		k := fmt.Sprintf("schedule/fn-%d/%d", i%97, i)
		got := OwnerOf(k, without)
		if owners[i] == "c" {
			moved++
			if got == "c" {
				t.Fatal("owner is a removed node")
			}
		} else if got != owners[i] {
			t.Fatalf("key %q moved from %s to %s though its owner stayed", k, owners[i], got)
		}
	}
	if moved != count["c"] {
		t.Fatalf("moved %d, c owned %d", moved, count["c"])
	}
}

func TestOwnerAgreesAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 4)
	keys := make([]string, 500)
	for i := range keys {
		keys[i] = fmt.Sprintf("tick/%d", i)
	}
	agree := func(ns []*testNode) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, k := range keys {
			o := ns[0].c.Owner(k)
			for _, n := range ns[1:] {
				if got := n.c.Owner(k); got != o {
					t.Fatalf("owner of %q: %s says %s, %s says %s", k, ns[0].name, o, n.name, got)
				}
			}
			out[k] = o
		}
		return out
	}
	before := agree(nodes)
	if err := nodes[3].c.Leave(time.Second); err != nil {
		t.Fatal(err)
	}
	_ = nodes[3].c.Shutdown()
	waitMembers(t, nodes[:3], 3)
	after := agree(nodes[:3])
	for k, o := range before {
		if o != "node-3" && after[k] != o {
			t.Fatalf("%q moved from %s to %s", k, o, after[k])
		}
		if after[k] == "node-3" {
			t.Fatalf("%q still owned by the departed node", k)
		}
	}
}

// owners returns the owner of each of keys of function in c's view.
func owners(c *Cluster, function string, keys int) []string {
	out := make([]string, keys)
	for i := range out {
		m, _ := c.FunctionOwner(function, fmt.Sprint("k", i))
		out[i] = m.Name
	}
	return out
}

// TestFunctionOwner: a function's keys are owned only by the nodes that
// advertise it; a node that starts advertising it owns keys only after
// the settle time, on every node at once; one that stops owns none at
// once.
func TestFunctionOwner(t *testing.T) {
	const settle = 1500 * time.Millisecond
	nodes := startCluster(t, 3, func(c *Config) { c.OwnerSettle = settle })
	waitMembers(t, nodes, 3)
	if _, ok := nodes[0].c.FunctionOwner("f", "k"); ok {
		t.Fatal("an owner for a function no node serves")
	}
	const keys = 60
	only := func(name string) []string { return slices.Repeat([]string{name}, keys) }
	// Deployed on node-0: owner of every key at once, on every node once
	// its metadata arrived.
	nodes[0].c.SetServing([]string{"f", "other"}, "f")
	if got := owners(nodes[0].c, "f", keys); !slices.Equal(got, only("node-0")) {
		t.Fatalf("the deploying node does not own every key at once: %v", got)
	}
	eventually(t, 5*time.Second, "node-0 the owner everywhere", func() bool {
		for _, n := range nodes {
			if !slices.Equal(owners(n.c, "f", keys), only("node-0")) {
				return false
			}
		}
		return true
	})
	// node-1 installs it: no key moves before the settle time, then the
	// same keys move on every node.
	start := time.Now()
	nodes[1].c.SetServing([]string{"f"})
	eventually(t, 5*time.Second, "node-1's advertisement everywhere", func() bool {
		for _, n := range nodes {
			if m, ok := n.c.Member("node-1"); !ok || m.Serving["f"] == 0 {
				return false
			}
		}
		return true
	})
	if time.Since(start) < settle-200*time.Millisecond {
		for _, n := range nodes {
			if got := owners(n.c, "f", keys); !slices.Equal(got, only("node-0")) {
				t.Fatalf("%s moved keys before the settle time: %v", n.name, got)
			}
		}
	}
	eventually(t, 10*time.Second, "keys shared by node-0 and node-1", func() bool {
		want := owners(nodes[0].c, "f", keys)
		if !slices.Contains(want, "node-1") {
			return false
		}
		for _, n := range nodes {
			if !slices.Equal(owners(n.c, "f", keys), want) {
				return false
			}
		}
		return !slices.Contains(want, "node-2")
	})
	if at := nodes[2].c.servingNow(); len(at) != 0 {
		t.Fatalf("node-2 advertises %v", at)
	}
	// node-0 removes it: its keys move to node-1 at once.
	nodes[0].c.SetServing([]string{"other"})
	if got := owners(nodes[0].c, "f", keys); !slices.Equal(got, only("node-1")) {
		t.Fatalf("node-0 still owns keys of a function it no longer serves: %v", got)
	}
	eventually(t, 5*time.Second, "node-1 the owner everywhere", func() bool {
		for _, n := range nodes {
			if !slices.Equal(owners(n.c, "f", keys), only("node-1")) {
				return false
			}
		}
		return true
	})
}

// TestServingFitsMeta: however many functions a node serves, its
// metadata stays within memberlist's limit; the ones left out are
// simply not owned by it.
func TestServingFitsMeta(t *testing.T) {
	n := startNode(t, "n")
	var fns []string
	for i := range 100 {
		fns = append(fns, fmt.Sprintf("a-function-with-a-long-name-%03d", i))
	}
	n.c.SetServing(fns)
	got := n.c.servingNow()
	if len(got) == 0 || len(got) == len(fns) {
		t.Fatalf("%d of %d functions advertised", len(got), len(fns))
	}
	if b := (delegate{n.c}).NodeMeta(memberlist.MetaMaxSize); len(b) == 0 || len(b) > memberlist.MetaMaxSize {
		t.Fatalf("metadata of %d bytes", len(b))
	}
	if _, ok := n.c.FunctionOwner(fns[len(fns)-1], "k"); ok {
		t.Fatal("an owner for a function left out of the metadata")
	}
}
