package cluster

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/kv"
)

// StoreReplica implements KVReplica on a kv.Store: the store's own
// records (kv.Store.Records, tombstones included, so they survive a
// restart like the data), Export and ApplyRemote. It follows the
// store's changes only to know when a namespace's cached record list is
// stale: Digests runs at every push/pull exchange and must not scan
// every namespace each time.
type StoreReplica struct {
	s    *kv.Store
	sub  *kv.Subscription
	done chan struct{}

	mu      sync.Mutex
	cache   map[string]*nsCache
	gen     map[string]uint64 // changes seen per namespace: a list built across a change is not cached
	epoch   uint64            // bumped when the subscription dropped changes
	dropped uint64
}

// nsCache is the sorted record list of a namespace; valid until the
// namespace changes or it is older than cacheTTL (tombstones cross the
// horizon, and the store purges, as time passes).
type nsCache struct {
	entries []EntryMeta // every record, tombstones included, sorted by key
	built   time.Time
}

const cacheTTL = 30 * time.Second

// NewStoreReplica returns a KVReplica on s. Close it before closing s.
func NewStoreReplica(s *kv.Store) *StoreReplica {
	r := &StoreReplica{
		s:     s,
		sub:   s.Subscribe("", "", 4096),
		done:  make(chan struct{}),
		cache: make(map[string]*nsCache),
		gen:   make(map[string]uint64),
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
	for ch := range r.sub.C() {
		r.invalidate(ch.Namespace)
	}
}

// invalidate drops the cached list of ns (of every namespace when the
// subscription missed changes).
func (r *StoreReplica) invalidate(ns string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := r.sub.Dropped(); d != r.dropped {
		r.dropped = d
		clear(r.cache)
		r.epoch++
	}
	delete(r.cache, ns)
	r.gen[ns]++
}

// records returns the record list of ns, from the cache or read from
// the store.
func (r *StoreReplica) records(ns string) ([]EntryMeta, error) {
	r.mu.Lock()
	if c, ok := r.cache[ns]; ok && time.Since(c.built) < cacheTTL {
		r.mu.Unlock()
		return c.entries, nil
	}
	gen, epoch := r.gen[ns], r.epoch
	r.mu.Unlock()

	built := time.Now()
	var out []EntryMeta
	after := ""
	for {
		recs, more, err := r.s.Records(ns, after, kv.MaxListLimit)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			out = append(out, EntryMeta{Key: rec.Key, Stamp: rec.Stamp, Node: rec.Node, Deleted: rec.Deleted})
		}
		if !more || len(recs) == 0 {
			break
		}
		after = recs[len(recs)-1].Key
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen[ns] == gen && r.epoch == epoch {
		r.cache[ns] = &nsCache{entries: out, built: built}
	}
	return out, nil
}

// namespaces returns every namespace the store holds records in.
func (r *StoreReplica) namespaces() ([]string, error) {
	infos, err := r.s.Namespaces()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(infos))
	for _, in := range infos {
		out = append(out, in.Name)
	}
	slices.Sort(out)
	return out, nil
}

func selected(e *EntryMeta, horizon hlc.Timestamp) bool {
	return !e.Deleted || !e.Stamp.Less(horizon)
}

// Digests implements KVReplica.
func (r *StoreReplica) Digests(horizon, cutoff hlc.Timestamp) (map[string]Digest, error) {
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
			if selected(&recs[i], horizon) && (cutoff.IsZero() || recs[i].Stamp.Less(cutoff)) {
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
func (r *StoreReplica) Export(ns, key string) (kv.Change, error) { return r.s.Export(ns, key) }

// Apply implements KVReplica: kv.Store.ApplyRemote, dropping the cached
// list at once so that Digests sees the change without waiting for the
// subscription.
func (r *StoreReplica) Apply(c kv.Change) (bool, error) {
	applied, err := r.s.ApplyRemote(c)
	if err != nil || !applied {
		return applied, err
	}
	r.invalidate(c.Namespace)
	return true, nil
}
