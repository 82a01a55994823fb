package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/kv"
)

// TestRepairSharesCommits: a node that repairs thousands of keys from
// a peer applies them in shared transactions of its KV store, not one
// transaction (and fsync) per key. Every bbolt commit writes at least
// its meta page, so a repair that committed key by key wrote more pages
// than it pulled keys; in the cluster chaos test such a repair of about
// 10,000 keys took 20 to 35 seconds, one fsync per key.
func TestRepairSharesCommits(t *testing.T) {
	const keys = 2000
	// a's keys are written before it joins anything and never
	// broadcast: b can only get them by repair.
	_, aStore := openTestStore(t, "a")
	var wg sync.WaitGroup
	for w := range 50 { // concurrent writers share commits: a quick setup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < keys; i += 50 {
				if _, err := aStore.Put(context.Background(), "bulk", fmt.Sprintf("k%05d", i), []byte("value"), kv.PutOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	aRep := NewStoreReplica(aStore)
	t.Cleanup(aRep.Close)
	a := startNodeKV(t, "a", aRep)

	bDB, bStore := openTestStore(t, "b")
	bRep := NewStoreReplica(bStore)
	t.Cleanup(bRep.Close)
	b := startNodeKV(t, "b", bRep)
	before := pageWrites(bDB)
	if _, err := b.c.Join([]string{a.c.Addr()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "b to repair every key", func() bool {
		d, err := bRep.Digests(hlc.Timestamp{}, hlc.Timestamp{})
		return err == nil && d["bulk"].Count == keys
	})
	writes := pageWrites(bDB) - before
	t.Logf("b wrote %d pages to apply %d repaired keys", writes, keys)
	if writes >= keys {
		t.Fatalf("b wrote %d pages for %d repaired keys: at least one commit per key", writes, keys)
	}
}

// openTestStore opens a KV store on a new bbolt file, closed at the
// end of the test.
func openTestStore(t *testing.T, name string) (*bbolt.DB, *kv.Store) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "node.db"), 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	store, err := kv.Open(db, kv.Options{NodeID: name, PurgeInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = store.Close()
		_ = db.Close()
	})
	return db, store
}

// pageWrites returns how many pages db's write transactions wrote.
func pageWrites(db *bbolt.DB) int64 {
	st := db.Stats()
	return st.TxStats.GetWrite()
}
