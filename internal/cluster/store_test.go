package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/kv"
)

// storeNode is a Cluster replicating a real kv.Store on a bbolt file
// through StoreReplica.
type storeNode struct {
	*testNode
	store *kv.Store
	rep   *StoreReplica
}

func startStoreNode(t *testing.T, name string) *storeNode {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "node.db"), 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	store, err := kv.Open(db, kv.Options{NodeID: name, PurgeInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	rep := NewStoreReplica(store)
	sub := store.Subscribe("", "", 0)
	t.Cleanup(func() {
		sub.Close()
		rep.Close()
		_ = store.Close()
		_ = db.Close()
	})
	n := &storeNode{store: store, rep: rep}
	n.testNode = startNodeKV(t, name, rep, func(c *Config) { c.Tuning.PushPullInterval = 500 * time.Millisecond })
	n.c.FollowKV(sub.C())
	return n
}

func (n *storeNode) value(ns, key string) (string, bool) {
	e, err := n.store.Get(ns, key)
	if errors.Is(err, kv.ErrNotFound) {
		return "", false
	}
	if err != nil {
		panic(err)
	}
	return string(e.Value), true
}

func TestReplicationWithKVStore(t *testing.T) {
	var nodes []*storeNode
	for i := range 3 {
		n := startStoreNode(t, fmt.Sprintf("node-%d", i))
		if i > 0 {
			if _, err := n.c.Join([]string{nodes[0].c.Addr()}); err != nil {
				t.Fatal(err)
			}
		}
		nodes = append(nodes, n)
	}
	eventually(t, 5*time.Second, "membership", func() bool {
		for _, n := range nodes {
			if n.c.NumAlive() != 3 {
				return false
			}
		}
		return true
	})
	everywhere := func(what, ns, key, want string, present bool) {
		t.Helper()
		eventually(t, 3*time.Second, what, func() bool {
			for _, n := range nodes {
				if v, ok := n.value(ns, key); ok != present || v != want {
					return false
				}
			}
			return true
		})
	}
	if _, err := nodes[0].store.Put(context.Background(), "app", "greeting", []byte("hello"), kv.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	everywhere("small put", "app", "greeting", "hello", true)
	large := bytes.Repeat([]byte("large value "), 400) // 4.8 KB
	if _, err := nodes[1].store.Put(context.Background(), "app", "large", large, kv.PutOptions{TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	everywhere("large put", "app", "large", string(large), true)
	if e, err := nodes[2].store.Get("app", "large"); err != nil || e.Node != "node-1" || e.Expires.IsZero() {
		t.Fatalf("replicated entry: %+v, %v", e, err)
	}
	if _, _, err := nodes[2].store.Increment(context.Background(), "app", "counter", 5); err != nil {
		t.Fatal(err)
	}
	everywhere("counter", "app", "counter", "5", true)
	if err := nodes[2].store.Delete(context.Background(), "app", "greeting", nil); err != nil {
		t.Fatal(err)
	}
	everywhere("delete", "app", "greeting", "", false)

	// concurrent writes to one key converge to the same winner
	for i, n := range nodes {
		if _, err := n.store.Put(context.Background(), "app", "contended", fmt.Appendf(nil, "from %d", i), kv.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "contended key to converge", func() bool {
		v0, _ := nodes[0].value("app", "contended")
		for _, n := range nodes[1:] {
			if v, _ := n.value("app", "contended"); v != v0 {
				return false
			}
		}
		return true
	})

	// digests agree once converged (tombstones included)
	eventually(t, 5*time.Second, "equal digests", func() bool {
		d0, _ := nodes[0].rep.Digests(hlc.Timestamp{}, hlc.Timestamp{})
		for _, n := range nodes[1:] {
			d, _ := n.rep.Digests(hlc.Timestamp{}, hlc.Timestamp{})
			if fmt.Sprint(d) != fmt.Sprint(d0) {
				return false
			}
		}
		return d0["app"].Count == 4 // greeting (tombstone), large, counter, contended
	})

	// a node that joins now gets everything, tombstone included
	late := startStoreNode(t, "late")
	if _, err := late.c.Join([]string{nodes[2].c.Addr()}); err != nil {
		t.Fatal(err)
	}
	nodes = append(nodes, late)
	everywhere("late joiner: large", "app", "large", string(large), true)
	everywhere("late joiner: counter", "app", "counter", "5", true)
	eventually(t, 5*time.Second, "late joiner has the tombstone", func() bool {
		ch, err := late.rep.Export("app", "greeting")
		return err == nil && ch.Op == kv.OpDelete && ch.Node == "node-2"
	})
}

func TestStoreReplicaContract(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "node.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := kv.Open(db, kv.Options{NodeID: "a", PurgeInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := NewStoreReplica(s)
	defer r.Close()

	for i := range 5 {
		if _, err := s.Put(context.Background(), "ns", fmt.Sprintf("k%d", i), []byte("v"), kv.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(context.Background(), "ns", "k2", nil); err != nil {
		t.Fatal(err)
	}
	old := hlc.Timestamp{Wall: 1000}
	if applied, err := r.Apply(kv.Change{Namespace: "ns", Key: "ancient", Op: kv.OpDelete, Stamp: old, Node: "b"}); err != nil || !applied {
		t.Fatalf("Apply ancient tombstone: %v %v", applied, err)
	}
	var all []EntryMeta
	eventually(t, 10*time.Second, "the local delete to be seen", func() bool {
		all, _, _ = r.Entries("ns", "", 100, hlc.Timestamp{})
		return len(all) == 6
	})
	want := []string{"ancient", "k0", "k1", "k2", "k3", "k4"}
	for i, e := range all {
		if e.Key != want[i] || e.Deleted != (e.Key == "k2" || e.Key == "ancient") {
			t.Fatalf("entries = %+v", all)
		}
	}
	// paging, strictly after the cursor
	page, more, _ := r.Entries("ns", "k1", 2, hlc.Timestamp{})
	if len(page) != 2 || page[0].Key != "k2" || page[1].Key != "k3" || !more {
		t.Fatalf("page after k1 = %+v, more %v", page, more)
	}
	if page, more, _ = r.Entries("ns", "k3", 2, hlc.Timestamp{}); len(page) != 1 || more {
		t.Fatalf("last page = %+v, more %v", page, more)
	}
	// the horizon leaves out settled tombstones, in both methods
	horizon := hlc.Timestamp{Wall: 2000}
	page, _, _ = r.Entries("ns", "", 100, horizon)
	ds, _ := r.Digests(horizon, hlc.Timestamp{})
	if len(page) != 5 || page[0].Key != "k0" || ds["ns"] != DigestOf(page) {
		t.Fatalf("with horizon: %+v, digest %+v", page, ds["ns"])
	}
	// Export: live, tombstone, nothing
	if ch, err := r.Export("ns", "k1"); err != nil || ch.Op != kv.OpPut || string(ch.Value) != "v" || ch.Node != "a" || ch.NewVersion != 1 {
		t.Fatalf("Export live = %+v, %v", ch, err)
	}
	if ch, err := r.Export("ns", "k2"); err != nil || ch.Op != kv.OpDelete || ch.Stamp.IsZero() {
		t.Fatalf("Export tombstone = %+v, %v", ch, err)
	}
	if _, err := r.Export("ns", "never"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Export absent: %v", err)
	}
	// a newer remote put replaces the tombstone; an older one loses
	tomb, _ := r.Export("ns", "k2")
	if applied, _ := r.Apply(kv.Change{Namespace: "ns", Key: "k2", Op: kv.OpPut, Value: []byte("old"), Stamp: hlc.Timestamp{Wall: tomb.Stamp.Wall - 1}, Node: "z"}); applied {
		t.Fatal("older put beat the tombstone")
	}
	newer := hlc.Timestamp{Wall: tomb.Stamp.Wall + 1}
	if applied, _ := r.Apply(kv.Change{Namespace: "ns", Key: "k2", Op: kv.OpPut, Value: []byte("back"), Stamp: newer, Node: "z"}); !applied {
		t.Fatal("newer put lost")
	}
	if ch, _ := r.Export("ns", "k2"); ch.Op != kv.OpPut || string(ch.Value) != "back" {
		t.Fatalf("after newer put: %+v", ch)
	}
	// Tombstones outlive a restart: a new replica on the reopened store
	// still offers and exports them, and refuses an older write.
	if err := s.Delete(context.Background(), "ns", "k4", nil); err != nil {
		t.Fatal(err)
	}
	r.Close()
	s.Close()
	s2, err := kv.Open(db, kv.Options{NodeID: "a", PurgeInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	r2 := NewStoreReplica(s2)
	defer r2.Close()
	after, _, _ := r2.Entries("ns", "", 100, hlc.Timestamp{})
	deleted := map[string]bool{}
	for _, e := range after {
		if e.Deleted {
			deleted[e.Key] = true
		}
	}
	if len(after) != 6 || !deleted["ancient"] || !deleted["k4"] || deleted["k2"] {
		t.Fatalf("entries after a restart = %+v", after)
	}
	ch, err := r2.Export("ns", "k4")
	if err != nil || ch.Op != kv.OpDelete {
		t.Fatalf("Export of a tombstone after a restart = %+v, %v", ch, err)
	}
	if applied, _ := r2.Apply(kv.Change{Namespace: "ns", Key: "k4", Op: kv.OpPut, Value: []byte("stale"), Stamp: hlc.Timestamp{Wall: ch.Stamp.Wall - 1}, Node: "z"}); applied {
		t.Fatal("an older write beat a tombstone after a restart")
	}
}
