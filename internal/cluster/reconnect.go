package cluster

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Reconnecting. memberlist probes and exchanges state with alive members
// only, and forgets dead ones after GossipToTheDeadTime: two sides of a
// partition that declared each other dead never meet again on their own
// once the network heals, and a node whose first join failed (its seeds
// were not up yet) stays alone. Serf and Consul fix this with a reconnect
// loop and retried joins; so does this file.
//
// Every reconnect interval (the preset's push/pull interval, jittered:
// 2 s local, 30 s lan, 60 s wan) the node joins one address chosen at
// random among:
//   - members it saw fail (dead, not left) and has not forgotten yet
//     (Tuning.ForgetAfter);
//   - the addresses it was asked to Join (the --join seeds) that belong
//     to no alive member, so a partition longer than ForgetAfter, or a
//     node that started before its seeds, still heals.
//
// A join is one TCP push/pull exchange; on success memberlist merges the
// two membership views, and the function records and KV repairs follow
// through the usual push/pull path.

// rememberSeeds records addresses given to Join, for reconnecting.
func (c *Cluster) rememberSeeds(addrs []string) {
	c.seedMu.Lock()
	defer c.seedMu.Unlock()
	for _, a := range addrs {
		if a != "" && a != c.addr && !slices.Contains(c.seeds, a) {
			c.seeds = append(c.seeds, a)
		}
	}
}

// reconnectCandidates returns the addresses worth a join now.
func (c *Cluster) reconnectCandidates() []string {
	alive := map[string]bool{}
	var out []string
	members := c.members.list()
	for _, m := range members {
		if m.State == StateAlive {
			alive[m.Addr] = true
		}
	}
	for _, m := range members {
		if m.State == StateDead && !m.Self && !alive[m.Addr] {
			out = append(out, m.Addr)
		}
	}
	c.seedMu.Lock()
	for _, s := range c.seeds {
		if !alive[s] && s != c.addr && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	c.seedMu.Unlock()
	return out
}

func (c *Cluster) reconnectLoop() {
	interval := c.mlc.PushPullInterval
	for {
		// Jitter, so that the nodes of a healed partition do not all
		// dial at once.
		wait := interval/2 + rand.N(interval)
		select {
		case <-c.stop:
			return
		case <-time.After(wait):
		}
		cands := c.reconnectCandidates()
		if len(cands) == 0 {
			continue
		}
		addr := cands[rand.IntN(len(cands))]
		if n, err := c.ml.Join([]string{addr}); n > 0 {
			c.stats.reconnects.Add(1)
			c.log.Info("cluster: reconnected", "addr", addr)
		} else {
			c.log.Debug("cluster: reconnect failed", "addr", addr, "err", err)
		}
	}
}
