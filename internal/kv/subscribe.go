package kv

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
)

// Op is the kind of a Change.
type Op uint8

// Kinds of change.
const (
	// OpPut: a key was written (Put or Increment).
	OpPut Op = iota + 1
	// OpDelete: a key was deleted; Value is nil.
	OpDelete
	// OpExpire: the purge found a key past its expiry and made it a
	// tombstone; Value is nil and NewVersion equals OldVersion. Every
	// node expires keys itself: replication should not forward these.
	OpExpire
)

// String returns "put", "delete" or "expire".
func (o Op) String() string {
	switch o {
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	case OpExpire:
		return "expire"
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Change describes one committed write, for subscribers (KV-change
// triggers, replication) and for ApplyRemote.
type Change struct {
	// Namespace and Key name the key written.
	Namespace, Key string
	// Op is the kind of write.
	Op Op
	// OldVersion is the version of the live value replaced (0 if the key
	// was absent, deleted or expired); NewVersion the version written.
	OldVersion, NewVersion uint64
	// Value is the new value of an OpPut. It is shared by all
	// subscribers: treat it as read-only.
	Value []byte
	// Expires is the expiry of an OpPut; zero means never.
	Expires time.Time
	// Stamp is the hybrid logical clock time of the write (for OpExpire,
	// of the write that expired).
	Stamp hlc.Timestamp
	// Node is the id of the node that made the write.
	Node string
	// Remote is true for changes applied by ApplyRemote.
	Remote bool
	// Trace is the traceparent of the local write that made the change
	// (PutOptions.Trace), "" when untraced; never replicated.
	Trace string
}

// DefaultSubscriptionBuffer is the buffer of a subscription created with
// buf <= 0.
const DefaultSubscriptionBuffer = 256

// Subscription receives the changes of one namespace (or all) under a
// key prefix. Create one with Store.Subscribe.
type Subscription struct {
	store   *Store
	ns      string
	prefix  string
	ch      chan Change
	dropped atomic.Uint64
}

// Subscribe returns a subscription to the committed changes of keys
// starting with prefix in namespace ns ("" for every namespace), local
// and remote, in commit order. Changes are delivered after they are
// durable.
//
// Writers never wait for subscribers: when the subscription's buffer of
// buf changes (DefaultSubscriptionBuffer if buf <= 0) is full, further
// changes are dropped for it and counted by Dropped. A subscriber that
// must not miss changes watches Dropped and resynchronizes with List.
// Subscribing on a closed Store returns a subscription whose channel is
// closed.
func (s *Store) Subscribe(ns, prefix string, buf int) *Subscription {
	if buf <= 0 {
		buf = DefaultSubscriptionBuffer
	}
	sub := &Subscription{store: s, ns: ns, prefix: prefix, ch: make(chan Change, buf)}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if s.closed.Load() {
		close(sub.ch)
		return sub
	}
	s.subs[sub] = struct{}{}
	return sub
}

// C returns the channel the changes arrive on. It is closed by Close of
// the subscription or of the Store.
func (sub *Subscription) C() <-chan Change { return sub.ch }

// Dropped returns how many changes were discarded because the buffer was
// full.
func (sub *Subscription) Dropped() uint64 { return sub.dropped.Load() }

// Close ends the subscription and closes its channel. It is safe to call
// more than once.
func (sub *Subscription) Close() {
	s := sub.store
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if _, ok := s.subs[sub]; ok {
		delete(s.subs, sub)
		close(sub.ch)
	}
}

func (sub *Subscription) matches(c *Change) bool {
	return (sub.ns == "" || sub.ns == c.Namespace) && strings.HasPrefix(c.Key, sub.prefix)
}

// publish delivers the changes of committed ops to the subscribers
// without blocking. A value is copied once per change, and only if
// someone receives it, so subscribers never share memory with writers.
func (s *Store) publish(ops []*writeOp) {
	s.subMu.RLock()
	defer s.subMu.RUnlock()
	if len(s.subs) == 0 {
		return
	}
	for _, op := range ops {
		for i := range op.events {
			c := op.events[i]
			copied := false
			for sub := range s.subs {
				if !sub.matches(&c) {
					continue
				}
				if !copied && c.Value != nil {
					c.Value = append(make([]byte, 0, len(c.Value)), c.Value...)
					copied = true
				}
				select {
				case sub.ch <- c:
				default:
					sub.dropped.Add(1)
				}
			}
		}
	}
}
