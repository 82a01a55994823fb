package cluster

import (
	"math"
	"math/rand/v2"
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
