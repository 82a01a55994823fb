package kv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// fakeClock is a settable wall clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openDB(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// env is a store on a fresh bbolt file, checked when the test ends.
type env struct {
	t     testing.TB
	path  string
	db    *bbolt.DB
	s     *Store
	clock *fakeClock
	opts  Options
}

// newEnv opens a store with a fake clock and no background purge.
// When the test ends it closes the store, runs bbolt's consistency check
// and the store's own invariants check, and closes the database.
func newEnv(t testing.TB, opts ...func(*Options)) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "node.db"), clock: newFakeClock()}
	e.opts = Options{NodeID: "node-a", Clock: e.clock, PurgeInterval: -1}
	for _, f := range opts {
		f(&e.opts)
	}
	e.db = openDB(t, e.path)
	e.open()
	t.Cleanup(func() {
		if e.s != nil {
			if err := e.s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		checkDB(t, e.db)
		checkInvariants(t, e.db, e.clock.Now())
		if err := e.db.Close(); err != nil {
			t.Errorf("db.Close: %v", err)
		}
	})
	return e
}

func (e *env) open() {
	e.t.Helper()
	s, err := Open(e.db, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.s = s
}

// reopen closes the store and the database file and opens both again.
func (e *env) reopen() {
	e.t.Helper()
	if err := e.s.Close(); err != nil {
		e.t.Fatal(err)
	}
	checkDB(e.t, e.db)
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.db = openDB(e.t, e.path)
	e.open()
}

func withMode(m writeMode) func(*Options) { return func(o *Options) { o.mode = m } }

// checkDB runs bbolt's consistency check over the whole file.
func checkDB(t testing.TB, db *bbolt.DB) {
	t.Helper()
	err := db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Errorf("bbolt consistency check: %v", err)
	}
}

// checkInvariants verifies the store's own bookkeeping: every record
// decodes; the expiry and tombstone indexes hold exactly one entry per
// expiring record and per tombstone; the namespace counters match the
// records.
func checkInvariants(t testing.TB, db *bbolt.DB, now time.Time) {
	t.Helper()
	err := db.View(func(tx *bbolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		if root == nil {
			return errors.New("no kv bucket")
		}
		if f := root.Get(keyFormat); !bytes.Equal(f, []byte{storageFormat}) {
			t.Errorf("format = %x", f)
		}
		all := root.Bucket(bucketNamespaces)
		return all.ForEachBucket(func(name []byte) error {
			nb, ok := nsFrom(all.Bucket(name))
			if !ok {
				t.Errorf("namespace %q lacks sub-buckets", name)
				return nil
			}
			st, err := nb.stats()
			if err != nil {
				return err
			}
			var keys, size uint64
			wantExp := map[string]uint64{}
			wantTomb := map[string]bool{}
			err = nb.data.ForEach(func(k, v []byte) error {
				r, err := decodeRecord(v)
				if err != nil {
					t.Errorf("%s/%q: %v", name, k, err)
					return nil
				}
				if r.version == 0 {
					t.Errorf("%s/%q: version 0", name, k)
				}
				if r.tombstone {
					wantTomb[string(indexKey(r.deletedAt, k))] = true
					return nil
				}
				keys++
				size += recordBytes(k, &r)
				if r.expires != 0 {
					wantExp[string(indexKey(r.expires, k))] = recordBytes(k, &r)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if st.keys != keys || st.bytes != size {
				t.Errorf("namespace %q: counters keys=%d bytes=%d, records say %d, %d", name, st.keys, st.bytes, keys, size)
			}
			_ = nb.exp.ForEach(func(k, v []byte) error {
				n, _ := binary.Uvarint(v)
				want, ok := wantExp[string(k)]
				if !ok || want != n {
					t.Errorf("namespace %q: stray expiry entry %x (size %d)", name, k, n)
				}
				delete(wantExp, string(k))
				return nil
			})
			for k := range wantExp {
				t.Errorf("namespace %q: missing expiry entry %x", name, k)
			}
			_ = nb.tomb.ForEach(func(k, _ []byte) error {
				if !wantTomb[string(k)] {
					t.Errorf("namespace %q: stray tombstone entry %x", name, k)
				}
				delete(wantTomb, string(k))
				return nil
			})
			for k := range wantTomb {
				t.Errorf("namespace %q: missing tombstone entry %x", name, k)
			}
			return nil
		})
	})
	if err != nil {
		t.Errorf("invariants: %v", err)
	}
}

func ptr(v uint64) *uint64 { return &v }

func mustPut(t testing.TB, s *Store, ns, key, value string, o PutOptions) Entry {
	t.Helper()
	e, err := s.Put(context.Background(), ns, key, []byte(value), o)
	if err != nil {
		t.Fatalf("Put(%s, %q): %v", ns, key, err)
	}
	return e
}

func mustGet(t testing.TB, s *Store, ns, key string) Entry {
	t.Helper()
	e, err := s.Get(ns, key)
	if err != nil {
		t.Fatalf("Get(%s, %q): %v", ns, key, err)
	}
	return e
}

func wantNotFound(t testing.TB, s *Store, ns, key string) {
	t.Helper()
	if e, err := s.Get(ns, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%s, %q) = %+v, %v; want ErrNotFound", ns, key, e, err)
	}
}

// recv waits (bounded) for the next change of sub.
func recv(t testing.TB, sub *Subscription) Change {
	t.Helper()
	select {
	case c, ok := <-sub.C():
		if !ok {
			t.Fatal("subscription closed")
		}
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no change within 5s")
	}
	return Change{}
}

// none asserts sub has nothing pending. Changes are published before the
// write returns, so nothing can still be in flight.
func none(t testing.TB, sub *Subscription) {
	t.Helper()
	select {
	case c := <-sub.C():
		t.Fatalf("unexpected change %+v", c)
	default:
	}
}
