package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
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
