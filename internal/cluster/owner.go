package cluster

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/hashicorp/memberlist"
)

// Owner returns the node that owns key among the alive members, by
// rendezvous (highest random weight) hashing: every node with the same
// membership view computes the same owner, and when a node leaves only
// the keys it owned move (to the node that scored second for each).
// Use it to run something on exactly one node, for example a schedule
// tick keyed by function and minute. During a membership change views
// differ for about a gossip round, so a tick may run twice or not at
// all around it: schedules are at-least-once only with a retry.
func (c *Cluster) Owner(key string) string {
	return OwnerOf(key, c.members.aliveNames())
}

// FunctionOwner returns the member that owns key of function: the
// rendezvous owner among the alive members that serve the function (they
// advertise it in their metadata, see SetServing) and whose settle time
// has passed. A node still fetching or compiling the function is never
// its owner. If no member is past its settle time (a node alone after a
// restart), the owner is chosen among every member that serves it. ok
// is false when no alive member serves the function.
//
// Every node that has seen the same advertisements computes the same
// owner; a node that advertises a function is an owner candidate from
// the same instant on every node that heard of it by then. The gateway
// runs a pinned request only on the node that is the owner in its own
// view, which is what keeps one writer per key (see the package doc).
func (c *Cluster) FunctionOwner(function, key string) (Member, bool) {
	now := c.clock.Now().UnixMilli()
	self := c.servingNow()
	var ready, all []Member
	var selfFenced bool
	for _, m := range c.members.aliveMembers() {
		s := m.Serving
		if m.Self {
			s = self // what this node advertises, even before memberlist reports it back
		}
		at, ok := s[function]
		took := !m.Self && c.tookOver(function, m.Name)
		if !ok && !took {
			continue
		}
		all = append(all, m)
		switch {
		case m.Self && c.leaving():
			continue // handed back: owns nothing, even alone
		case m.Self && !c.selfSynced(function):
			// Not an owner here before the take-over fence is passed.
			selfFenced = true
		case took || at <= now:
			ready = append(ready, m)
		}
	}
	if len(ready) == 0 {
		// Nobody past its settle time (every node restarted): any node
		// that serves it, but this one before its take-over if another
		// does.
		for _, m := range all {
			if !m.Self || !selfFenced || len(all) == 1 {
				ready = append(ready, m)
			}
		}
	}
	var best Member
	var bestScore uint64
	kh := fnv64(key, fnvOffset)
	for _, m := range ready {
		s := score(kh, m.Name)
		if best.Name == "" || s > bestScore || (s == bestScore && m.Name > best.Name) {
			best, bestScore = m, s
		}
	}
	return best, best.Name != ""
}

// servingSet is what this node advertises it serves.
type servingSet struct {
	mu sync.Mutex
	m  map[string]int64 // function -> Unix ms from which it may own keys; replaced, never mutated
}

func (c *Cluster) servingNow() map[string]int64 {
	c.serving.mu.Lock()
	defer c.serving.mu.Unlock()
	return c.serving.m
}

// SetServing sets the functions this node advertises as installed,
// replacing the previous set. A function already advertised keeps its
// settle time; one new to the set becomes a candidate owner of its
// keys after OwnerSettle, or at once if it is in immediate (the node a
// function was first deployed on: no other node can serve it yet).
// The set travels in the node's memberlist metadata; what does not fit
// its 512 bytes is left out (by name order), and those functions are
// then served by the other nodes only, which is safe.
func (c *Cluster) SetServing(functions []string, immediate ...string) {
	now := c.clock.Now()
	c.serving.mu.Lock()
	old := c.serving.m
	next := make(map[string]int64, len(functions))
	slices.Sort(functions)
	base := len(encodeMeta(c.cfg.Meta, Load{InFlight: 1 << 30, Limit: 1 << 30}, map[string]int64{}))
	size := base
	for _, f := range functions {
		at, ok := old[f]
		switch {
		case ok:
		case slices.Contains(immediate, f):
			at = now.UnixMilli()
		default:
			at = now.Add(c.st.ownerSettle).UnixMilli()
		}
		// "name":1234567890123, : the entry's share of the JSON
		if size += len(f) + 20; size > memberlist.MetaMaxSize {
			c.log.Warn("cluster: too many functions with affinity to advertise; the rest are served by other nodes", "left_out", len(functions)-len(next))
			break
		}
		next[f] = at
	}
	changed := !maps.Equal(old, next)
	c.serving.m = next
	c.servingChanged(old, next, immediate)
	c.serving.mu.Unlock()
	if changed {
		c.kickMeta()
	}
}

// kickMeta makes the metadata loop gossip this node's metadata now.
func (c *Cluster) kickMeta() {
	select {
	case c.metaKick <- struct{}{}:
	default:
	}
}

// OwnerOf returns the node of nodes that owns key by rendezvous
// hashing, or "" if nodes is empty. The order of nodes does not matter.
func OwnerOf(key string, nodes []string) string {
	var best string
	var bestScore uint64
	kh := fnv64(key, fnvOffset)
	for _, n := range nodes {
		s := score(kh, n)
		if best == "" || s > bestScore || (s == bestScore && n > best) {
			best, bestScore = n, s
		}
	}
	return best
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnv64(s string, h uint64) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// score is the weight of node for a key hash: FNV-1a of the node name
// seeded with the key hash, finished with the splitmix64 mixer so that
// every bit depends on both.
func score(keyHash uint64, node string) uint64 {
	h := fnv64(node, keyHash^0x9e3779b97f4a7c15)
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// PickPeer returns the least-loaded alive peer that advertises a public
// address, other than this node and exclude, for forwarding a request;
// ties are broken at random so that nodes do not all pick the same one.
// Loads are as last gossiped (every LoadInterval when they change).
func (c *Cluster) PickPeer(exclude string) (Member, bool) {
	var best []Member
	bestU := math.Inf(1)
	for _, m := range c.members.aliveMembers() {
		if m.Self || m.Name == exclude || m.Meta.PublicAddr == "" {
			continue
		}
		switch u := m.Load.Utilization(); {
		case u < bestU:
			best, bestU = append(best[:0], m), u
		case u == bestU:
			best = append(best, m)
		}
	}
	if len(best) == 0 {
		return Member{}, false
	}
	return best[rand.IntN(len(best))], true
}
