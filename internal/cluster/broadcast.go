package cluster

import (
	"sync"
	"sync/atomic"

	"github.com/hashicorp/memberlist"

	"github.com/wedge-run/wedge/internal/hlc"
)

// maxQueued bounds the broadcast queue. Past it, the messages sent most
// often are dropped (memberlist's Prune); anti-entropy repairs what
// they would have carried.
const maxQueued = 8192

// broadcast is one queued gossip message. It is a NamedBroadcast: a
// newer message for the same function or key replaces it in the queue.
type broadcast struct {
	name  string
	msg   []byte
	stamp hlc.Timestamp
	node  string
	done  atomic.Bool
}

var _ memberlist.NamedBroadcast = (*broadcast)(nil)

func (b *broadcast) Name() string    { return b.name }
func (b *broadcast) Message() []byte { return b.msg }
func (b *broadcast) Finished()       { b.done.Store(true) }

// Invalidates reports whether b replaces o: same name.
func (b *broadcast) Invalidates(o memberlist.Broadcast) bool {
	nb, ok := o.(memberlist.NamedBroadcast)
	return ok && nb.Name() == b.name
}

func functionBroadcastName(name string) string { return "f\x00" + name }

func kvBroadcastName(ns, key string) string { return "k\x00" + ns + "\x00" + key }

// outbox feeds two memberlist TransmitLimitedQueues, and makes sure an
// older write never replaces a newer one queued under the same name
// (two relays can race).
//
// The priority queue (function records, departures: rare and
// important) is served first and retransmits twice as often as the
// normal one (KV changes), so that a deployment misses a node only with
// negligible probability (a node misses a message only if every node
// holding it skipped it in all its transmissions), while KV traffic
// keeps memberlist's default budget: gossip bandwidth is small (one
// packet per gossip round and peer) and a busy KV would otherwise crowd
// it out.
type outbox struct {
	prio, normal memberlist.TransmitLimitedQueue
	mu           sync.Mutex
	byName       map[string]*broadcast
	pruned       atomic.Uint64
}

func newOutbox(numNodes func() int, retransmitMult int) *outbox {
	o := &outbox{byName: make(map[string]*broadcast)}
	o.prio.NumNodes, o.prio.RetransmitMult = numNodes, 2*retransmitMult
	o.normal.NumNodes, o.normal.RetransmitMult = numNodes, retransmitMult
	return o
}

// queue enqueues msg for the write (stamp, node) under name, unless the
// same or a newer write is queued under that name; it reports whether
// it did.
func (o *outbox) queue(name string, stamp hlc.Timestamp, node string, msg []byte, prio bool) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if old := o.byName[name]; old != nil && !old.done.Load() && !Newer(stamp, node, old.stamp, old.node) {
		return false
	}
	b := &broadcast{name: name, msg: msg, stamp: stamp, node: node}
	o.byName[name] = b
	q := &o.normal
	if prio {
		q = &o.prio
	}
	q.QueueBroadcast(b) // Finished never takes o.mu: no lock order issue
	if n := q.NumQueued(); n > maxQueued {
		q.Prune(maxQueued)
		o.pruned.Add(uint64(n - maxQueued))
	}
	if len(o.byName) > 2*maxQueued {
		for k, v := range o.byName {
			if v.done.Load() {
				delete(o.byName, k)
			}
		}
	}
	return true
}

// get hands memberlist the messages for one packet, priority first.
func (o *outbox) get(overhead, limit int) [][]byte {
	msgs := o.prio.GetBroadcasts(overhead, limit)
	for _, m := range msgs {
		limit -= overhead + len(m)
	}
	if limit > overhead {
		msgs = append(msgs, o.normal.GetBroadcasts(overhead, limit)...)
	}
	return msgs
}

func (o *outbox) len() int { return o.prio.NumQueued() + o.normal.NumQueued() }

// reset drops everything queued (at shutdown).
func (o *outbox) reset() {
	o.prio.Reset()
	o.normal.Reset()
}
