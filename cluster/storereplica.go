package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/kv"
)

// StoreReplica implements KVReplica on a kv.Store with nothing but the
// store's exported API (Get, List, Namespaces, ApplyRemote, Subscribe).
//
// That API hides tombstones, so StoreReplica learns them from a
// subscription to every change (local deletes and expiries, and remote
// deletes) and keeps them in memory until the retention passes. Two
// consequences, until kv exposes its records with tombstones (then
// implement KVReplica there and drop this type):
//   - tombstones written before this process started are unknown to it:
//     after a restart, a delete that a peer missed while this node was
//     the only one holding it is not repaired (a write wins over it
//     there; here the store keeps refusing the older value, so no value
//     comes back to life on this node);
//   - Digests and Entries list whole namespaces (cached until a change),
//     which is fine for thousands of keys per namespace, not millions.
type StoreReplica struct {
	s         *kv.Store
	sub       *kv.Subscription
	retention time.Duration
	done      chan struct{}

	mu      sync.Mutex
	tombs   map[string]map[string]tombstone
	cache   map[string]*nsCache
	gen     map[string]uint64 // changes seen per namespace: a list built across a change is not cached
	epoch   uint64            // bumped when the subscription dropped changes
	dropped uint64
}

type tombstone struct {
	stamp   hlc.Timestamp
	node    string
	version uint64
	at      time.Time // when learned, for the retention
}

// nsCache is the merged, sorted record list of a namespace; valid until
// the namespace changes or it is older than cacheTTL (tombstones cross
// the horizon as time passes).
type nsCache struct {
	entries []EntryMeta // every record, tombstones included, sorted by key
	built   time.Time
}

const cacheTTL = 30 * time.Second

// NewStoreReplica returns a KVReplica on s. retention is how long a
// tombstone is remembered: the store's TombstoneRetention (0 means
// kv.DefaultTombstoneRetention). Close it before closing s.
func NewStoreReplica(s *kv.Store, retention time.Duration) *StoreReplica {
	if retention <= 0 {
		retention = kv.DefaultTombstoneRetention
	}
	r := &StoreReplica{
		s:         s,
		sub:       s.Subscribe("", "", 4096),
		retention: retention,
		done:      make(chan struct{}),
		tombs:     make(map[string]map[string]tombstone),
		cache:     make(map[string]*nsCache),
		gen:       make(map[string]uint64),
	}
	go r.follow()
	return r
}

// Close stops following the store.
func (r *StoreReplica) Close() {
	r.sub.Close()
	<-r.done
}

func (r *StoreReplica) follow() {
	defer close(r.done)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case ch, ok := <-r.sub.C():
			if !ok {
				return
			}
			r.note(&ch)
		case <-t.C:
			r.prune()
		}
	}
}

// note updates the tombstone set with a committed change.
func (r *StoreReplica) note(ch *kv.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := r.sub.Dropped(); d != r.dropped {
		r.dropped = d
		clear(r.cache) // some change was missed: rebuild everything
		r.epoch++
	}
	delete(r.cache, ch.Namespace)
	r.gen[ch.Namespace]++
	switch ch.Op {
	case kv.OpDelete, kv.OpExpire:
		r.setTombLocked(ch.Namespace, ch.Key, tombstone{stamp: ch.Stamp, node: ch.Node, version: ch.NewVersion, at: time.Now()})
	case kv.OpPut:
		if t, ok := r.tombs[ch.Namespace][ch.Key]; ok && Newer(ch.Stamp, ch.Node, t.stamp, t.node) {
			delete(r.tombs[ch.Namespace], ch.Key)
		}
	}
}

func (r *StoreReplica) setTombLocked(ns, key string, t tombstone) {
	m := r.tombs[ns]
	if m == nil {
		m = make(map[string]tombstone)
		r.tombs[ns] = m
	}
	if old, ok := m[key]; ok && !Newer(t.stamp, t.node, old.stamp, old.node) {
		return
	}
	m[key] = t
}

func (r *StoreReplica) prune() {
	cutoff := time.Now().Add(-r.retention)
	r.mu.Lock()
	defer r.mu.Unlock()
	for ns, m := range r.tombs {
		for k, t := range m {
			if t.at.Before(cutoff) {
				delete(m, k)
				delete(r.cache, ns)
			}
		}
		if len(m) == 0 {
			delete(r.tombs, ns)
		}
	}
}

// records returns the merged record list of ns, from the cache or
// built from the store.
func (r *StoreReplica) records(ns string) ([]EntryMeta, error) {
	r.mu.Lock()
	if c, ok := r.cache[ns]; ok && time.Since(c.built) < cacheTTL {
		r.mu.Unlock()
		return c.entries, nil
	}
	gen, epoch := r.gen[ns], r.epoch
	r.mu.Unlock()

	built := time.Now()
	var live []kv.Entry
	cursor := ""
	for {
		p, err := r.s.List(ns, kv.ListOptions{Cursor: cursor, Limit: kv.MaxListLimit, KeysOnly: true})
		if err != nil {
			return nil, err
		}
		live = append(live, p.Entries...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	tombs := r.tombs[ns]
	out := make([]EntryMeta, 0, len(live)+len(tombs))
	for _, e := range live {
		if t, ok := tombs[e.Key]; ok && Newer(t.stamp, t.node, e.Stamp, e.Node) {
			continue // listed below as a tombstone
		}
		out = append(out, EntryMeta{Key: e.Key, Stamp: e.Stamp, Node: e.Node})
	}
	liveVer := make(map[string]version, len(live))
	for _, e := range live {
		liveVer[e.Key] = version{e.Stamp, e.Node}
	}
	for k, t := range tombs {
		if v, ok := liveVer[k]; ok && !Newer(t.stamp, t.node, v.stamp, v.node) {
			continue // the live value is newer: listed above
		}
		out = append(out, EntryMeta{Key: k, Stamp: t.stamp, Node: t.node, Deleted: true})
	}
	slices.SortFunc(out, func(a, b EntryMeta) int { return strings.Compare(a.Key, b.Key) })
	if r.gen[ns] == gen && r.epoch == epoch {
		r.cache[ns] = &nsCache{entries: out, built: built}
	}
	return out, nil
}

// namespaces returns every namespace with live keys or tombstones.
func (r *StoreReplica) namespaces() ([]string, error) {
	infos, err := r.s.Namespaces()
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(infos))
	for _, in := range infos {
		set[in.Name] = true
	}
	r.mu.Lock()
	for ns := range r.tombs {
		set[ns] = true
	}
	r.mu.Unlock()
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	slices.Sort(out)
	return out, nil
}

func selected(e *EntryMeta, horizon hlc.Timestamp) bool {
	return !e.Deleted || !e.Stamp.Less(horizon)
}

// Digests implements KVReplica.
func (r *StoreReplica) Digests(horizon hlc.Timestamp) (map[string]Digest, error) {
	names, err := r.namespaces()
	if err != nil {
		return nil, err
	}
	out := make(map[string]Digest, len(names))
	for _, ns := range names {
		recs, err := r.records(ns)
		if err != nil {
			return nil, err
		}
		var d Digest
		for i := range recs {
			if selected(&recs[i], horizon) {
				d.Add(recs[i].Key, recs[i].Stamp, recs[i].Node)
			}
		}
		if d.Count > 0 {
			out[ns] = d
		}
	}
	return out, nil
}

// Entries implements KVReplica.
func (r *StoreReplica) Entries(ns, after string, limit int, horizon hlc.Timestamp) ([]EntryMeta, bool, error) {
	if !kv.ValidNamespace(ns) {
		return nil, false, fmt.Errorf("%w: %q", kv.ErrInvalidNamespace, ns)
	}
	recs, err := r.records(ns)
	if err != nil {
		return nil, false, err
	}
	i, found := slices.BinarySearchFunc(recs, after, func(e EntryMeta, k string) int { return strings.Compare(e.Key, k) })
	if found {
		i++ // strictly after
	}
	var out []EntryMeta
	for ; i < len(recs); i++ {
		if !selected(&recs[i], horizon) {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, recs[i])
	}
	return out, false, nil
}

// Export implements KVReplica.
func (r *StoreReplica) Export(ns, key string) (kv.Change, error) {
	e, err := r.s.Get(ns, key)
	if err == nil {
		return kv.Change{Namespace: ns, Key: key, Op: kv.OpPut, NewVersion: e.Version, Value: e.Value, Expires: e.Expires, Stamp: e.Stamp, Node: e.Node}, nil
	}
	if !errors.Is(err, kv.ErrNotFound) {
		return kv.Change{}, err
	}
	r.mu.Lock()
	t, ok := r.tombs[ns][key]
	r.mu.Unlock()
	if !ok {
		return kv.Change{}, err
	}
	return kv.Change{Namespace: ns, Key: key, Op: kv.OpDelete, NewVersion: t.version, Stamp: t.stamp, Node: t.node}, nil
}

// Apply implements KVReplica: kv.Store.ApplyRemote, noting the
// tombstone at once so that Export and Digests see it without waiting
// for the subscription.
func (r *StoreReplica) Apply(c kv.Change) (bool, error) {
	applied, err := r.s.ApplyRemote(c)
	if err != nil || !applied {
		return applied, err
	}
	r.note(&c)
	return true, nil
}
