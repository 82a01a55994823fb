package kv

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// putMany writes n keys fmt.Sprintf(format, i) concurrently.
func putMany(t testing.TB, s *Store, ns, format string, n int) {
	t.Helper()
	const writers = 32
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				k := fmt.Sprintf(format, i)
				if _, err := s.Put(context.Background(), ns, k, []byte("v:"+k), PutOptions{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestListPagesThroughEveryKeyOnce(t *testing.T) {
	e := newEnv(t)
	s := e.s
	const n = 2500
	putMany(t, s, "app", "k%05d", n)
	var pages []int
	cursor := ""
	next := 0
	for range 10 { // bounded: 3 pages expected
		p, err := s.List("app", ListOptions{Cursor: cursor, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(p.Entries))
		for _, en := range p.Entries {
			if want := fmt.Sprintf("k%05d", next); en.Key != want {
				t.Fatalf("key %q, want %q", en.Key, want)
			}
			if string(en.Value) != "v:"+en.Key || en.Version != 1 {
				t.Fatalf("entry %+v", en)
			}
			next++
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if next != n || fmt.Sprint(pages) != "[1000 1000 500]" {
		t.Fatalf("saw %d keys in pages %v", next, pages)
	}
}

func TestListExactPageHasNoCursor(t *testing.T) {
	e := newEnv(t)
	s := e.s
	putMany(t, s, "app", "k%02d", 20)
	p, err := s.List("app", ListOptions{Limit: 10})
	if err != nil || len(p.Entries) != 10 || p.NextCursor == "" {
		t.Fatalf("first page = %d entries, cursor %q, %v", len(p.Entries), p.NextCursor, err)
	}
	p, err = s.List("app", ListOptions{Limit: 10, Cursor: p.NextCursor})
	if err != nil || len(p.Entries) != 10 || p.NextCursor != "" {
		t.Fatalf("last page = %d entries, cursor %q, %v", len(p.Entries), p.NextCursor, err)
	}
	// keys after the last live one are deleted or expired: still no cursor
	mustPut(t, s, "app", "k98", "x", PutOptions{TTL: time.Second})
	mustPut(t, s, "app", "k99", "x", PutOptions{})
	if err := s.Delete(context.Background(), "app", "k99", nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if p, _ := s.List("app", ListOptions{Limit: 20}); len(p.Entries) != 20 || p.NextCursor != "" {
		t.Fatalf("page = %d entries, cursor %q", len(p.Entries), p.NextCursor)
	}
}

func TestListPrefixLimitKeysOnly(t *testing.T) {
	e := newEnv(t)
	s := e.s
	for _, k := range []string{"a", "user/1", "user/2", "user/3", "user0", "users/x", "z"} {
		mustPut(t, s, "app", k, "val-"+k, PutOptions{})
	}
	mustPut(t, s, "other", "user/9", "x", PutOptions{})
	if err := s.Delete(context.Background(), "app", "user/2", nil); err != nil {
		t.Fatal(err)
	}
	p, err := s.List("app", ListOptions{Prefix: "user/"})
	if err != nil || p.NextCursor != "" || len(p.Entries) != 2 || p.Entries[0].Key != "user/1" || p.Entries[1].Key != "user/3" {
		t.Fatalf("List prefix = %+v, %v", p, err)
	}
	if string(p.Entries[0].Value) != "val-user/1" {
		t.Fatalf("value = %q", p.Entries[0].Value)
	}
	p, _ = s.List("app", ListOptions{Prefix: "user", Limit: 2, KeysOnly: true})
	if len(p.Entries) != 2 || p.Entries[0].Value != nil || p.Entries[0].Version != 1 || p.NextCursor == "" {
		t.Fatalf("keys-only page = %+v", p)
	}
	p, _ = s.List("app", ListOptions{Prefix: "user", Limit: 2, KeysOnly: true, Cursor: p.NextCursor})
	if len(p.Entries) != 2 || p.Entries[0].Key != "user0" || p.Entries[1].Key != "users/x" || p.NextCursor != "" {
		t.Fatalf("second keys-only page = %+v", p)
	}
	if p, _ := s.List("app", ListOptions{Prefix: "nothing"}); len(p.Entries) != 0 || p.NextCursor != "" {
		t.Fatalf("empty prefix listing = %+v", p)
	}
	if p, err := s.List("never-written", ListOptions{}); err != nil || len(p.Entries) != 0 {
		t.Fatalf("List of unknown namespace = %+v, %v", p, err)
	}

	// a cursor still works after its key was deleted
	p, _ = s.List("app", ListOptions{Limit: 1})
	if err := s.Delete(context.Background(), "app", p.Entries[0].Key, nil); err != nil {
		t.Fatal(err)
	}
	if q, err := s.List("app", ListOptions{Limit: 1, Cursor: p.NextCursor}); err != nil || q.Entries[0].Key != "user/1" {
		t.Fatalf("List after deleting the cursor key = %+v, %v", q, err)
	}
}

func TestListLimits(t *testing.T) {
	e := newEnv(t)
	s := e.s
	putMany(t, s, "app", "k%04d", MaxListLimit+10)
	for _, tc := range []struct{ limit, want int }{{0, DefaultListLimit}, {-5, DefaultListLimit}, {7, 7}, {5000, MaxListLimit}} {
		p, err := s.List("app", ListOptions{Limit: tc.limit, KeysOnly: true})
		if err != nil || len(p.Entries) != tc.want || p.NextCursor == "" {
			t.Errorf("Limit %d: %d entries, cursor %q, %v", tc.limit, len(p.Entries), p.NextCursor, err)
		}
	}
}

func TestListMalformedCursor(t *testing.T) {
	e := newEnv(t)
	s := e.s
	putMany(t, s, "app", "user/%d", 5)
	mustPut(t, s, "app", "zzz", "v", PutOptions{})
	p, _ := s.List("app", ListOptions{Prefix: "user/", Limit: 2})
	enc := base64.RawURLEncoding.EncodeToString
	bad := []struct{ name, cursor, prefix string }{
		{"not base64", "!!!not base64!!!", ""},
		{"padded std base64", "AWs=", ""},
		{"empty payload", enc(nil) + "A", ""},
		{"only format byte", enc([]byte{cursorFormat}), ""},
		{"unknown format", enc([]byte{9, 'k'}), ""},
		{"key too long", enc(append([]byte{cursorFormat}, make([]byte, MaxKeyLen+1)...)), ""},
		{"other prefix", enc([]byte{cursorFormat, 'z', 'z', 'z'}), "user/"},
		{"cursor of another prefix", p.NextCursor, "a"},
		{"raw key", "user/1", "user/"},
	}
	for _, tc := range bad {
		if _, err := s.List("app", ListOptions{Cursor: tc.cursor, Prefix: tc.prefix}); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%s: cursor %q: err %v, want ErrInvalidCursor", tc.name, tc.cursor, err)
		}
	}
	if _, err := s.List("app", ListOptions{Cursor: p.NextCursor, Prefix: "user/"}); err != nil {
		t.Fatalf("valid cursor rejected: %v", err)
	}
	// a cursor is usable with a shorter prefix of the same listing
	if _, err := s.List("app", ListOptions{Cursor: p.NextCursor}); err != nil {
		t.Fatalf("cursor without prefix: %v", err)
	}
}
