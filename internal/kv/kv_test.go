package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPutGet(t *testing.T) {
	e := newEnv(t)
	s := e.s
	wantNotFound(t, s, "app", "greeting") // namespace never written
	in := []byte("hello")
	got, err := s.Put(context.Background(), "app", "greeting", in, PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in[0] = 'J' // the store keeps its own copy
	if got.Key != "greeting" || string(got.Value) != "hello" || got.Version != 1 || got.Node != "node-a" ||
		got.Stamp.IsZero() || !got.Expires.IsZero() {
		t.Fatalf("Put = %+v", got)
	}
	g := mustGet(t, s, "app", "greeting")
	if string(g.Value) != "hello" || g.Version != 1 || g.Stamp != got.Stamp || g.Node != "node-a" {
		t.Fatalf("Get = %+v, Put returned %+v", g, got)
	}
	g2 := mustPut(t, s, "app", "greeting", "hi", PutOptions{})
	if g2.Version != 2 || !got.Stamp.Less(g2.Stamp) {
		t.Fatalf("overwrite = %+v", g2)
	}
	if v := mustGet(t, s, "app", "greeting"); string(v.Value) != "hi" || v.Version != 2 {
		t.Fatalf("Get after overwrite = %+v", v)
	}
	wantNotFound(t, s, "app", "other")
	wantNotFound(t, s, "other", "greeting")

	// empty and nil values are values
	mustPut(t, s, "app", "empty", "", PutOptions{})
	if v := mustGet(t, s, "app", "empty"); v.Value == nil || len(v.Value) != 0 {
		t.Fatalf("empty value = %#v", v.Value)
	}
	if _, err := s.Put(context.Background(), "app", "nil", nil, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "app", "nil")

	// a value returned by Get is the caller's to modify
	v := mustGet(t, s, "app", "greeting")
	v.Value[0] = 'X'
	if w := mustGet(t, s, "app", "greeting"); string(w.Value) != "hi" {
		t.Fatalf("stored value changed through a returned slice: %q", w.Value)
	}
}

func TestErrorMessagesNameTheKey(t *testing.T) {
	e := newEnv(t)
	_, err := e.s.Get("app", "missing-key")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "app") || !strings.Contains(err.Error(), "missing-key") {
		t.Fatalf("err = %v", err)
	}
	mustPut(t, e.s, "app", "k", "v", PutOptions{})
	_, err = e.s.Put(context.Background(), "app", "k", nil, PutOptions{IfVersion: ptr(7)})
	if !errors.Is(err, ErrVersionConflict) || !strings.Contains(err.Error(), "version 1, expected 7") {
		t.Fatalf("err = %v", err)
	}
}

func TestDeleteLeavesTombstone(t *testing.T) {
	e := newEnv(t)
	s := e.s
	mustPut(t, s, "app", "k", "v1", PutOptions{})
	mustPut(t, s, "app", "k", "v2", PutOptions{})
	if err := s.Delete(context.Background(), "app", "k", nil); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, "app", "k")
	if p, _ := s.List("app", ListOptions{}); len(p.Entries) != 0 {
		t.Fatalf("List after delete = %+v", p)
	}
	// re-creation continues after the tombstone's version (3)
	if got := mustPut(t, s, "app", "k", "v3", PutOptions{}); got.Version != 4 {
		t.Fatalf("re-created version = %d, want 4", got.Version)
	}
	// deleting an absent key is not an error and records a tombstone
	if err := s.Delete(context.Background(), "app", "never", nil); err != nil {
		t.Fatal(err)
	}
	if got := mustPut(t, s, "app", "never", "x", PutOptions{}); got.Version != 2 {
		t.Fatalf("version after tombstone of absent key = %d, want 2", got.Version)
	}
	if err := s.Delete(context.Background(), "fresh-ns", "k", nil); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, "fresh-ns", "k")
}

func TestCompareAndSwap(t *testing.T) {
	e := newEnv(t)
	s := e.s
	// 0 = must not exist
	a, err := s.Put(context.Background(), "app", "k", []byte("a"), PutOptions{IfVersion: ptr(0)})
	if err != nil || a.Version != 1 {
		t.Fatalf("create = %+v, %v", a, err)
	}
	if _, err := s.Put(context.Background(), "app", "k", []byte("b"), PutOptions{IfVersion: ptr(0)}); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("create existing: %v", err)
	}
	if _, err := s.Put(context.Background(), "app", "k", []byte("b"), PutOptions{IfVersion: ptr(2)}); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("future version: %v", err)
	}
	if g := mustGet(t, s, "app", "k"); string(g.Value) != "a" || g.Version != 1 {
		t.Fatalf("conflicting CAS changed the key: %+v", g)
	}
	b, err := s.Put(context.Background(), "app", "k", []byte("b"), PutOptions{IfVersion: ptr(1)})
	if err != nil || b.Version != 2 {
		t.Fatalf("CAS = %+v, %v", b, err)
	}
	if _, err := s.Put(context.Background(), "app", "k", []byte("c"), PutOptions{IfVersion: ptr(1)}); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("stale CAS: %v", err)
	}
	// CAS delete
	if err := s.Delete(context.Background(), "app", "k", ptr(1)); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("stale CAS delete: %v", err)
	}
	mustGet(t, s, "app", "k")
	if err := s.Delete(context.Background(), "app", "k", ptr(2)); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, "app", "k")
	// a deleted key does not exist for CAS: version 0 matches, the old one does not
	if _, err := s.Put(context.Background(), "app", "k", []byte("d"), PutOptions{IfVersion: ptr(3)}); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("CAS on tombstone version: %v", err)
	}
	d, err := s.Put(context.Background(), "app", "k", []byte("d"), PutOptions{IfVersion: ptr(0)})
	if err != nil || d.Version != 4 {
		t.Fatalf("re-create with CAS = %+v, %v", d, err)
	}
	// a conflict on a never-written namespace creates nothing
	if err := s.Delete(context.Background(), "ghost", "k", ptr(5)); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("CAS delete in empty namespace: %v", err)
	}
	if ns, _ := s.Namespaces(); len(ns) != 1 || ns[0].Name != "app" {
		t.Fatalf("Namespaces = %+v", ns)
	}
}

func TestTTL(t *testing.T) {
	e := newEnv(t)
	s, clock := e.s, e.clock
	start := clock.Now()
	p := mustPut(t, s, "app", "session", "token", PutOptions{TTL: 10 * time.Second})
	if !p.Expires.Equal(start.Add(10 * time.Second)) {
		t.Fatalf("Expires = %v, want %v", p.Expires, start.Add(10*time.Second))
	}
	mustPut(t, s, "app", "forever", "x", PutOptions{})
	clock.Advance(10*time.Second - time.Millisecond)
	if g := mustGet(t, s, "app", "session"); !g.Expires.Equal(p.Expires) {
		t.Fatalf("Get = %+v", g)
	}
	if st, _ := s.Stat("app"); st.Keys != 2 {
		t.Fatalf("Stat before expiry = %+v", st)
	}
	clock.Advance(time.Millisecond)
	// invisible at once, before any purge
	wantNotFound(t, s, "app", "session")
	if pg, _ := s.List("app", ListOptions{}); len(pg.Entries) != 1 || pg.Entries[0].Key != "forever" {
		t.Fatalf("List after expiry = %+v", pg)
	}
	if st, _ := s.Stat("app"); st.Keys != 1 || st.Bytes != int64(len("forever")+1) {
		t.Fatalf("Stat after expiry = %+v", st)
	}
	// an expired key does not exist for CAS
	if _, err := s.Put(context.Background(), "app", "session", []byte("x"), PutOptions{IfVersion: ptr(1)}); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("CAS on expired key: %v", err)
	}

	// the purge turns it into a tombstone; the version survives
	exp, tombs, err := s.Purge()
	if err != nil || exp != 1 || tombs != 0 {
		t.Fatalf("Purge = %d, %d, %v", exp, tombs, err)
	}
	wantNotFound(t, s, "app", "session")
	again, err := s.Put(context.Background(), "app", "session", []byte("new"), PutOptions{IfVersion: ptr(0)})
	if err != nil || again.Version != 2 || !again.Expires.IsZero() {
		t.Fatalf("re-create after expiry = %+v, %v", again, err)
	}

	// overwriting with a different TTL moves the expiry
	mustPut(t, s, "app", "t", "1", PutOptions{TTL: time.Second})
	mustPut(t, s, "app", "t", "2", PutOptions{TTL: time.Hour})
	clock.Advance(2 * time.Second)
	if g := mustGet(t, s, "app", "t"); string(g.Value) != "2" {
		t.Fatalf("Get = %+v", g)
	}
	mustPut(t, s, "app", "t", "3", PutOptions{}) // and without TTL removes it
	clock.Advance(2 * time.Hour)
	if g := mustGet(t, s, "app", "t"); string(g.Value) != "3" {
		t.Fatalf("Get = %+v", g)
	}
	if exp, _, _ := s.Purge(); exp != 0 {
		t.Fatalf("purge expired %d keys, want 0", exp)
	}

	// sub-millisecond TTLs round up, never down
	mustPut(t, s, "app", "tiny", "x", PutOptions{TTL: time.Microsecond})
	mustGet(t, s, "app", "tiny")
	clock.Advance(time.Millisecond)
	wantNotFound(t, s, "app", "tiny")

	if _, err := s.Put(context.Background(), "app", "neg", nil, PutOptions{TTL: -time.Second}); !errors.Is(err, ErrInvalidTTL) {
		t.Fatalf("negative TTL: %v", err)
	}
}

func TestPurgeTombstones(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TombstoneRetention = time.Hour })
	s, clock := e.s, e.clock
	for range 3 {
		mustPut(t, s, "app", "k", "v", PutOptions{}) // versions 1..3
	}
	if err := s.Delete(context.Background(), "app", "k", nil); err != nil { // version 4
		t.Fatal(err)
	}
	mustPut(t, s, "app", "short", "v", PutOptions{TTL: time.Minute})
	clock.Advance(time.Hour - time.Millisecond)
	exp, tombs, err := s.Purge()
	if err != nil || exp != 1 || tombs != 0 {
		t.Fatalf("Purge = %d, %d, %v; want 1 expired, 0 tombstones", exp, tombs, err)
	}
	clock.Advance(time.Millisecond)
	exp, tombs, err = s.Purge()
	if err != nil || exp != 0 || tombs != 1 {
		t.Fatalf("Purge = %d, %d, %v; want the delete's tombstone", exp, tombs, err)
	}
	// an expired key's tombstone is kept for the retention from the purge
	// that recorded it
	clock.Advance(time.Hour - 2*time.Millisecond)
	if exp, tombs, _ = s.Purge(); exp != 0 || tombs != 0 {
		t.Fatalf("Purge = %d, %d; want nothing yet", exp, tombs)
	}
	clock.Advance(time.Millisecond)
	if exp, tombs, _ = s.Purge(); exp != 0 || tombs != 1 {
		t.Fatalf("Purge = %d, %d; want the expired key's tombstone", exp, tombs)
	}
	// every trace is gone, but versions are still never reused
	if got := mustPut(t, s, "app", "k", "again", PutOptions{}); got.Version <= 4 {
		t.Fatalf("re-created version %d reuses a purged version", got.Version)
	}
	if got := mustPut(t, s, "app", "other", "x", PutOptions{}); got.Version != 5 {
		t.Fatalf("new key version = %d, want 5 (above every purged version)", got.Version)
	}
}

func TestPurgeInBoundedTransactions(t *testing.T) {
	e := newEnv(t)
	s := e.s
	n := purgeBatchSize + 500
	// concurrent writers share commits, which keeps the test fast
	errs := make(chan error, 16)
	for w := range 16 {
		go func() {
			var err error
			for i := w; i < n; i += 16 {
				if _, err = s.Put(context.Background(), "bulk", keyN(i), []byte("v"), PutOptions{TTL: time.Second}); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Second)
	exp, _, err := s.Purge()
	if err != nil || exp != n {
		t.Fatalf("Purge expired %d, %v; want %d", exp, err, n)
	}
	if st, _ := s.Stat("bulk"); st.Keys != 0 || st.Bytes != 0 {
		t.Fatalf("Stat = %+v", st)
	}
}

func keyN(i int) string { return fmt.Sprintf("key-%06d", i) }

func TestIncrement(t *testing.T) {
	e := newEnv(t)
	s := e.s
	n, ent, err := s.Increment(context.Background(), "app", "hits", 5)
	if err != nil || n != 5 || ent.Version != 1 || string(ent.Value) != "5" {
		t.Fatalf("Increment = %d, %+v, %v", n, ent, err)
	}
	n, ent, err = s.Increment(context.Background(), "app", "hits", -7)
	if err != nil || n != -2 || ent.Version != 2 {
		t.Fatalf("Increment = %d, %+v, %v", n, ent, err)
	}
	if g := mustGet(t, s, "app", "hits"); string(g.Value) != "-2" {
		t.Fatalf("stored counter = %q", g.Value)
	}
	// a value put as text counts
	mustPut(t, s, "app", "text", "41", PutOptions{})
	if n, _, _ := s.Increment(context.Background(), "app", "text", 1); n != 42 {
		t.Fatalf("Increment of put value = %d", n)
	}
	mustPut(t, s, "app", "word", "forty", PutOptions{})
	if _, _, err := s.Increment(context.Background(), "app", "word", 1); !errors.Is(err, ErrNotCounter) {
		t.Fatalf("Increment of non-integer: %v", err)
	}
	if g := mustGet(t, s, "app", "word"); string(g.Value) != "forty" || g.Version != 1 {
		t.Fatalf("failed Increment changed the key: %+v", g)
	}
	mustPut(t, s, "app", "max", "9223372036854775806", PutOptions{})
	if n, _, err := s.Increment(context.Background(), "app", "max", 1); err != nil || n != 1<<63-1 {
		t.Fatalf("Increment to MaxInt64 = %d, %v", n, err)
	}
	if _, _, err := s.Increment(context.Background(), "app", "max", 1); !errors.Is(err, ErrCounterOverflow) {
		t.Fatalf("overflow: %v", err)
	}
	mustPut(t, s, "app", "min", "-9223372036854775808", PutOptions{})
	if _, _, err := s.Increment(context.Background(), "app", "min", -1); !errors.Is(err, ErrCounterOverflow) {
		t.Fatalf("underflow: %v", err)
	}
	// a counter keeps its TTL; an expired one starts again from 0
	mustPut(t, s, "app", "window", "10", PutOptions{TTL: time.Minute})
	_, ent, _ = s.Increment(context.Background(), "app", "window", 1)
	if ent.Expires.IsZero() {
		t.Fatal("Increment dropped the expiry")
	}
	e.clock.Advance(time.Minute)
	n, ent, err = s.Increment(context.Background(), "app", "window", 1)
	if err != nil || n != 1 || !ent.Expires.IsZero() {
		t.Fatalf("Increment of expired counter = %d, %+v, %v", n, ent, err)
	}
	// after a delete too
	if err := s.Delete(context.Background(), "app", "hits", nil); err != nil {
		t.Fatal(err)
	}
	if n, ent, _ := s.Increment(context.Background(), "app", "hits", 3); n != 3 || ent.Version != 4 {
		t.Fatalf("Increment after delete = %d, %+v", n, ent)
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t)
	s := e.s
	long := strings.Repeat("k", MaxKeyLen)
	mustPut(t, s, "app", long, "v", PutOptions{})
	mustGet(t, s, "app", long)
	big := bytes.Repeat([]byte{'v'}, MaxValueLen)
	if _, err := s.Put(context.Background(), "app", "big", big, PutOptions{}); err != nil {
		t.Fatalf("Put of MaxValueLen bytes: %v", err)
	}
	if g := mustGet(t, s, "app", "big"); len(g.Value) != MaxValueLen {
		t.Fatalf("len = %d", len(g.Value))
	}

	keyErrs := []struct {
		key  string
		want error
	}{
		{"", ErrInvalidKey},
		{long + "k", ErrKeyTooLarge},
		{"bad\xffutf8", ErrInvalidKey},
	}
	for _, tc := range keyErrs {
		if _, err := s.Put(context.Background(), "app", tc.key, nil, PutOptions{}); !errors.Is(err, tc.want) {
			t.Errorf("Put key %q: %v, want %v", tc.key, err, tc.want)
		}
		if _, err := s.Get("app", tc.key); !errors.Is(err, tc.want) {
			t.Errorf("Get key %q: %v, want %v", tc.key, err, tc.want)
		}
		if err := s.Delete(context.Background(), "app", tc.key, nil); !errors.Is(err, tc.want) {
			t.Errorf("Delete key %q: %v, want %v", tc.key, err, tc.want)
		}
		if _, _, err := s.Increment(context.Background(), "app", tc.key, 1); !errors.Is(err, tc.want) {
			t.Errorf("Increment key %q: %v, want %v", tc.key, err, tc.want)
		}
	}
	if _, err := s.Put(context.Background(), "app", "big", append(big, 'x'), PutOptions{}); !errors.Is(err, ErrValueTooLarge) {
		t.Errorf("Put of MaxValueLen+1 bytes: %v", err)
	}
	if g := mustGet(t, s, "app", "big"); len(g.Value) != MaxValueLen {
		t.Errorf("rejected put changed the value")
	}

	goodNS := []string{"a", "App.v2_test-1", strings.Repeat("n", MaxNamespaceLen), "..."}
	for _, ns := range goodNS {
		if !ValidNamespace(ns) {
			t.Errorf("ValidNamespace(%q) = false", ns)
		}
		mustPut(t, s, ns, "k", "v", PutOptions{})
	}
	badNS := []string{"", ".", "..", "a/b", "a b", "ünï", "a\x00", strings.Repeat("n", MaxNamespaceLen+1), "a:b"}
	for _, ns := range badNS {
		if ValidNamespace(ns) {
			t.Errorf("ValidNamespace(%q) = true", ns)
		}
		if _, err := s.Put(context.Background(), ns, "k", nil, PutOptions{}); !errors.Is(err, ErrInvalidNamespace) {
			t.Errorf("Put ns %q: %v", ns, err)
		}
		if _, err := s.Get(ns, "k"); !errors.Is(err, ErrInvalidNamespace) {
			t.Errorf("Get ns %q: %v", ns, err)
		}
		if _, err := s.List(ns, ListOptions{}); !errors.Is(err, ErrInvalidNamespace) {
			t.Errorf("List ns %q: %v", ns, err)
		}
		if _, err := s.Stat(ns); !errors.Is(err, ErrInvalidNamespace) {
			t.Errorf("Stat ns %q: %v", ns, err)
		}
	}
}

func TestNamespacesAndStat(t *testing.T) {
	e := newEnv(t)
	s := e.s
	if ns, err := s.Namespaces(); err != nil || len(ns) != 0 {
		t.Fatalf("Namespaces of empty store = %+v, %v", ns, err)
	}
	if st, err := s.Stat("nothing"); err != nil || st != (NamespaceInfo{Name: "nothing"}) {
		t.Fatalf("Stat of unknown namespace = %+v, %v", st, err)
	}
	mustPut(t, s, "b", "k1", "12345", PutOptions{})
	mustPut(t, s, "b", "k2", "1", PutOptions{})
	mustPut(t, s, "b", "k2", "123", PutOptions{})
	mustPut(t, s, "a", "x", "", PutOptions{})
	mustPut(t, s, "c", "gone", "v", PutOptions{})
	if err := s.Delete(context.Background(), "c", "gone", nil); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "b", "ttl", "zz", PutOptions{TTL: time.Second})
	want := []NamespaceInfo{{"a", 1, 1}, {"b", 3, 2 + 5 + 2 + 3 + 3 + 2}, {"c", 0, 0}}
	ns, err := s.Namespaces()
	if err != nil || len(ns) != len(want) {
		t.Fatalf("Namespaces = %+v, %v", ns, err)
	}
	for i := range want {
		if ns[i] != want[i] {
			t.Errorf("Namespaces[%d] = %+v, want %+v", i, ns[i], want[i])
		}
	}
	e.clock.Advance(time.Second)
	if st, _ := s.Stat("b"); st != (NamespaceInfo{"b", 2, 2 + 5 + 2 + 3}) {
		t.Fatalf("Stat after expiry = %+v", st)
	}
	if _, _, err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Stat("b"); st != (NamespaceInfo{"b", 2, 2 + 5 + 2 + 3}) {
		t.Fatalf("Stat after purge = %+v", st)
	}
}

func TestReopen(t *testing.T) {
	e := newEnv(t)
	mustPut(t, e.s, "app", "a", "1", PutOptions{})
	mustPut(t, e.s, "app", "a", "2", PutOptions{})
	mustPut(t, e.s, "app", "b", "x", PutOptions{TTL: time.Hour})
	mustPut(t, e.s, "app", "gone", "x", PutOptions{})
	if err := e.s.Delete(context.Background(), "app", "gone", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.Increment(context.Background(), "other", "n", 7); err != nil {
		t.Fatal(err)
	}
	before := mustGet(t, e.s, "app", "a")

	e.reopen()
	s := e.s
	if g := mustGet(t, s, "app", "a"); string(g.Value) != "2" || g.Version != 2 || g.Stamp != before.Stamp || g.Node != "node-a" {
		t.Fatalf("after reopen: %+v, before %+v", g, before)
	}
	if g := mustGet(t, s, "app", "b"); g.Expires.IsZero() {
		t.Fatalf("expiry lost: %+v", g)
	}
	wantNotFound(t, s, "app", "gone")
	if g := mustPut(t, s, "app", "gone", "back", PutOptions{}); g.Version != 3 {
		t.Fatalf("tombstone version lost: %+v", g)
	}
	if n, _, _ := s.Increment(context.Background(), "other", "n", 1); n != 8 {
		t.Fatalf("counter after reopen = %d", n)
	}
	// a new write after reopen is stamped after the old ones even if the
	// wall clock went back meanwhile
	e.clock.Advance(-time.Hour)
	if g := mustPut(t, s, "app", "a", "3", PutOptions{}); !before.Stamp.Less(g.Stamp) {
		t.Fatalf("stamp %v not after %v", g.Stamp, before.Stamp)
	}
	ns, _ := s.Namespaces()
	if len(ns) != 2 || ns[0].Keys != 3 || ns[1].Keys != 1 {
		t.Fatalf("Namespaces = %+v", ns)
	}
}

func TestClose(t *testing.T) {
	for _, m := range []writeMode{modeGroup, modeBatch, modeUpdate} {
		t.Run(m.String(), func(t *testing.T) {
			e := newEnv(t, withMode(m))
			s := e.s
			mustPut(t, s, "app", "k", "v", PutOptions{})
			sub := s.Subscribe("", "", 1)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if _, ok := <-sub.C(); ok {
				t.Fatal("subscription still open after Close")
			}
			sub.Close()
			if _, err := s.Put(context.Background(), "app", "k", nil, PutOptions{}); !errors.Is(err, ErrClosed) {
				t.Fatalf("Put after Close: %v", err)
			}
			if _, err := s.Get("app", "k"); !errors.Is(err, ErrClosed) {
				t.Fatalf("Get after Close: %v", err)
			}
			if _, err := s.List("app", ListOptions{}); !errors.Is(err, ErrClosed) {
				t.Fatalf("List after Close: %v", err)
			}
			if _, _, err := s.Purge(); !errors.Is(err, ErrClosed) {
				t.Fatalf("Purge after Close: %v", err)
			}
			if _, ok := <-s.Subscribe("app", "", 1).C(); ok {
				t.Fatal("Subscribe after Close gave an open channel")
			}
		})
	}
}

// TestCloseWhileWriting: writes racing Close either commit or report
// ErrClosed; none hangs, and every acknowledged write is stored.
func TestCloseWhileWriting(t *testing.T) {
	e := newEnv(t)
	s := e.s
	const writers = 16
	acked := make(chan string, writers*1000)
	done := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range 1000 {
				k := keyN(w*1000 + i)
				if _, err := s.Put(context.Background(), "app", k, []byte("v"), PutOptions{}); err != nil {
					if errors.Is(err, ErrClosed) {
						done <- nil
					} else {
						done <- err
					}
					return
				}
				acked <- k
			}
			done <- nil
		}()
	}
	// let some writes through, then close
	for range 50 {
		<-acked
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range writers {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a writer hangs after Close")
		}
	}
	close(acked)
	e.open()
	n := 50
	for k := range acked {
		mustGet(t, e.s, "app", k)
		n++
	}
	if st, _ := e.s.Stat("app"); st.Keys < n {
		t.Fatalf("Stat = %+v, acknowledged %d", st, n)
	}
}

func TestBackgroundPurge(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PurgeInterval = 5 * time.Millisecond })
	s := e.s
	sub := s.Subscribe("app", "", 8)
	mustPut(t, s, "app", "k", "v", PutOptions{TTL: time.Second})
	if c := recv(t, sub); c.Op != OpPut {
		t.Fatalf("got %+v", c)
	}
	e.clock.Advance(time.Second)
	c := recv(t, sub) // the background purge reports the expiry
	if c.Op != OpExpire || c.Key != "k" || c.OldVersion != 1 || c.NewVersion != 1 || c.Remote {
		t.Fatalf("got %+v", c)
	}
}
