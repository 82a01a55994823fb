package cluster

import (
	"net"
	"testing"
	"time"
)

// freeGossipAddr returns a 127.0.0.1 address whose port was free for
// both TCP and UDP a moment ago.
func freeGossipAddr(t *testing.T) string {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err == nil {
			pc.Close()
			return addr
		}
	}
	t.Fatal("no free port for TCP and UDP")
	return ""
}

// TestJoinRetriesSeeds: a node whose seed was not up yet when it
// started (its Join failed) joins once the seed comes up.
func TestJoinRetriesSeeds(t *testing.T) {
	seedAddr := freeGossipAddr(t)
	early := startNode(t, "early")
	if _, err := early.c.Join([]string{seedAddr}); err == nil {
		t.Fatal("joined a seed that is not up")
	}
	seed := startNode(t, "seed", func(c *Config) { c.BindAddr = seedAddr })
	waitMembers(t, []*testNode{early, seed}, 2)
	if early.c.Stats().Reconnects == 0 {
		t.Fatal("joined without the reconnect loop?")
	}
}

// TestReconnectsToFailedMember: a member this node declared dead is
// joined again once it answers (as after a partition heals). A partition
// cannot be made in process (the netns test in internal/cli makes a real
// one), so a node restarted on the dead member's address stands in.
func TestReconnectsToFailedMember(t *testing.T) {
	nodes := startCluster(t, 2)
	addr := nodes[1].c.Addr()
	_ = nodes[1].c.Shutdown()
	eventually(t, 10*time.Second, "node-1 dead on node-0", func() bool {
		m, ok := nodes[0].c.Member("node-1")
		return ok && m.State == StateDead
	})
	// node-1 comes back on the same address but joins nobody: only
	// node-0's reconnect loop can bring them together.
	back := startNode(t, "node-1", func(c *Config) { c.BindAddr = addr })
	waitMembers(t, []*testNode{nodes[0], back}, 2)
}
