package cluster

import (
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/kv"
)

func memberState(n *testNode, name string) MemberState {
	m, ok := n.c.Member(name)
	if !ok {
		return ""
	}
	return m.State
}

// TestFailureDetectionAndRejoin: a node that stops without leaving is
// declared dead by the others; restarted under the same name (on a new
// port) it rejoins and catches up with what it missed.
func TestFailureDetectionAndRejoin(t *testing.T) {
	nodes := startCluster(t, 4)
	victim := nodes[3]
	survivors := nodes[:3]

	start := time.Now()
	if err := victim.c.Shutdown(); err != nil { // no Leave: a crash as far as the others know
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "survivors to declare node-3 dead", func() bool {
		for _, n := range survivors {
			if memberState(n, "node-3") != StateDead {
				return false
			}
		}
		return true
	})
	t.Logf("failure detected by all survivors in %v", time.Since(start))
	for _, n := range survivors {
		if n.c.NumAlive() != 3 {
			t.Fatalf("%s counts %d alive", n.name, n.c.NumAlive())
		}
		if owner := n.c.Owner("some-key"); owner == "node-3" {
			t.Fatalf("%s still gives keys to the dead node", n.name)
		}
	}

	// writes the dead node misses
	rec := nodes[0].publishFunction("while-away", []byte("module"), "{}")
	ch := nodes[1].kv.put("app", "while-away", []byte("v"))
	waitKV(t, survivors, kvConvergence, ch)

	// restart under the same name, new port, empty state
	time.Sleep(1100 * time.Millisecond) // DeadNodeReclaimTime of the local preset: the name may move to a new address
	back := startNode(t, "node-3")
	if _, err := back.c.Join([]string{nodes[1].c.Addr()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "node-3 alive again everywhere", func() bool {
		for _, n := range append(survivors, back) {
			if memberState(n, "node-3") != StateAlive || n.c.NumAlive() != 4 {
				return false
			}
		}
		return true
	})
	if m, _ := nodes[0].c.Member("node-3"); m.Addr != back.c.Addr() {
		t.Fatalf("node-0 sees node-3 at %s, want the new address %s", m.Addr, back.c.Addr())
	}
	eventually(t, 5*time.Second, "rejoined node to catch up", func() bool { return hasRecord(back, rec) && back.kv.has(ch) })
	// and it takes part again
	ch2 := back.kv.put("app", "after-return", []byte("w"))
	waitKV(t, nodes[:3], kvConvergence, ch2)
}

func TestLeaveIsReported(t *testing.T) {
	nodes := startCluster(t, 3)
	if err := nodes[2].c.Leave(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := nodes[2].c.Shutdown(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "node-2 reported as left", func() bool {
		return memberState(nodes[0], "node-2") == StateLeft && memberState(nodes[1], "node-2") == StateLeft
	})
	ms := nodes[0].c.Members()
	if len(ms) != 3 || ms[0].State != StateAlive || ms[2].Name != "node-2" || ms[2].State != StateLeft {
		t.Fatalf("Members = %+v", ms)
	}
	if _, err := nodes[2].c.Join([]string{nodes[0].c.Addr()}); err == nil {
		t.Fatal("Join after Shutdown succeeded")
	}
	nodes[2].c.PublishKV(kv.Change{Namespace: "a", Key: "b", Op: kv.OpPut, Stamp: nodes[2].kv.clock.Now()}) // no panic after shutdown
}

func TestMembersCarryMetaAndLoad(t *testing.T) {
	var loads [3]struct {
		mu sync.Mutex
		l  Load
	}
	set := func(i int, l Load) {
		loads[i].mu.Lock()
		loads[i].l = l
		loads[i].mu.Unlock()
	}
	nodes := make([]*testNode, 3)
	for i := range nodes {
		set(i, Load{InFlight: 50, Limit: 100})
		nodes[i] = startNode(t, "node-"+string(rune('0'+i)), func(c *Config) {
			c.Meta.PublicAddr = "0.0.0.0:808" + string(rune('0'+i))
			c.Load = func() Load {
				loads[i].mu.Lock()
				defer loads[i].mu.Unlock()
				return loads[i].l
			}
		})
		if i > 0 {
			if _, err := nodes[i].c.Join([]string{nodes[0].c.Addr()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitMembers(t, nodes, 3)
	m, ok := nodes[0].c.Member("node-2")
	if !ok || m.Meta.PublicAddr != "127.0.0.1:8082" || m.Meta.AdminAddr != nodes[2].cfg.Meta.AdminAddr || m.Meta.Version != "test" || m.Self {
		t.Fatalf("node-2 as node-0 sees it: %+v (the unspecified host should be completed with the gossip IP)", m)
	}
	if self, _ := nodes[0].c.Member("node-0"); !self.Self {
		t.Fatalf("self not marked: %+v", self)
	}

	set(1, Load{InFlight: 90, Limit: 100})
	set(2, Load{InFlight: 5, Limit: 100})
	eventually(t, 5*time.Second, "loads gossiped", func() bool {
		m1, _ := nodes[0].c.Member("node-1")
		m2, _ := nodes[0].c.Member("node-2")
		return m1.Load.InFlight == 90 && m2.Load.InFlight == 5
	})
	for range 20 {
		p, ok := nodes[0].c.PickPeer("")
		if !ok || p.Name != "node-2" {
			t.Fatalf("PickPeer = %+v, %v; want the least loaded, node-2", p, ok)
		}
	}
	if p, ok := nodes[0].c.PickPeer("node-2"); !ok || p.Name != "node-1" {
		t.Fatalf("PickPeer excluding node-2 = %+v, %v", p, ok)
	}
	if p, ok := nodes[1].c.PickPeer("node-0"); !ok || p.Name != "node-2" {
		t.Fatalf("PickPeer on node-1 = %+v, %v", p, ok)
	}
	// ties are spread
	set(1, Load{InFlight: 5, Limit: 100})
	eventually(t, 5*time.Second, "node-1 load gossiped", func() bool {
		m1, _ := nodes[0].c.Member("node-1")
		return m1.Load.InFlight == 5
	})
	seen := map[string]bool{}
	for range 200 {
		p, _ := nodes[0].c.PickPeer("")
		seen[p.Name] = true
	}
	if !seen["node-1"] || !seen["node-2"] || len(seen) != 2 {
		t.Fatalf("tied peers picked: %v", seen)
	}
}
