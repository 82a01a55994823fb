package kv

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	"go.etcd.io/bbolt"
)

// Limits of List.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Get returns the live entry of key in namespace ns, or ErrNotFound if
// the key is absent, deleted or expired (an expired key is invisible as
// soon as its time passes, before any purge). Reads never wait for
// writes.
func (s *Store) Get(ns, key string) (Entry, error) {
	if err := checkNamespaceKey(ns, key); err != nil {
		return Entry{}, err
	}
	if s.closed.Load() {
		return Entry{}, ErrClosed
	}
	nowMs := s.clock.Now().UnixMilli()
	var e Entry
	found := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		data := openData(tx, ns)
		if data == nil {
			return nil
		}
		v := data.Get([]byte(key))
		if v == nil {
			return nil
		}
		r, err := decodeRecord(v)
		if err != nil || !r.visibleAt(nowMs) {
			return err
		}
		e, found = r.entry(key, false), true
		return nil
	})
	if err != nil {
		return Entry{}, fmt.Errorf("kv: get %s/%q: %w", ns, key, err)
	}
	if !found {
		return Entry{}, fmt.Errorf("%w: %s/%q", ErrNotFound, ns, key)
	}
	return e, nil
}

// ListOptions selects a page of keys.
type ListOptions struct {
	// Prefix restricts the listing to keys starting with it.
	Prefix string
	// Cursor continues a listing: pass the NextCursor of the previous
	// page (with the same Prefix). Empty starts at the beginning.
	Cursor string
	// Limit is the page size: 0 (or negative) means DefaultListLimit;
	// larger than MaxListLimit means MaxListLimit.
	Limit int
	// KeysOnly leaves Entry.Value nil.
	KeysOnly bool
}

// Page is one page of a listing.
type Page struct {
	// Entries are live entries in ascending byte order of their keys.
	Entries []Entry
	// NextCursor continues the listing; it is "" when there is nothing
	// more to list.
	NextCursor string
}

const cursorFormat = 1

func encodeCursor(key []byte) string {
	b := make([]byte, 0, 1+len(key))
	b = append(b, cursorFormat)
	return base64.RawURLEncoding.EncodeToString(append(b, key...))
}

func decodeCursor(c, prefix string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: not base64url", ErrInvalidCursor)
	case len(b) < 2 || b[0] != cursorFormat || len(b)-1 > MaxKeyLen:
		return nil, fmt.Errorf("%w: unknown format", ErrInvalidCursor)
	case !bytes.HasPrefix(b[1:], []byte(prefix)):
		return nil, fmt.Errorf("%w: cursor is not within prefix %q", ErrInvalidCursor, prefix)
	}
	return b[1:], nil
}

// List returns a page of the live keys of namespace ns, in ascending
// byte order. The cursor is opaque; a malformed one, or one from a
// listing with another prefix, is ErrInvalidCursor. Keys written after a
// page was returned appear in later pages if they sort after its cursor.
func (s *Store) List(ns string, o ListOptions) (Page, error) {
	if err := checkNamespace(ns); err != nil {
		return Page{}, err
	}
	limit := o.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	prefix := []byte(o.Prefix)
	var after []byte
	if o.Cursor != "" {
		var err error
		if after, err = decodeCursor(o.Cursor, o.Prefix); err != nil {
			return Page{}, err
		}
	}
	if s.closed.Load() {
		return Page{}, ErrClosed
	}
	nowMs := s.clock.Now().UnixMilli()
	var p Page
	err := s.db.View(func(tx *bbolt.Tx) error {
		data := openData(tx, ns)
		if data == nil {
			return nil
		}
		c := data.Cursor()
		lastNode := ""
		var k, v []byte
		if after != nil {
			k, v = c.Seek(after)
			if bytes.Equal(k, after) {
				k, v = c.Next()
			}
		} else {
			k, v = c.Seek(prefix)
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			// records mostly share a few writers: reuse the node string
			r, err := decodeRecordNode(v, lastNode)
			if err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			if !r.visibleAt(nowMs) {
				continue
			}
			lastNode = r.node
			if len(p.Entries) == limit {
				// Another live key follows: the listing continues.
				p.NextCursor = encodeCursor(p.lastKey())
				return nil
			}
			if p.Entries == nil {
				p.Entries = make([]Entry, 0, min(limit, 64))
			}
			p.Entries = append(p.Entries, r.entry(string(k), o.KeysOnly))
		}
		return nil
	})
	if err != nil {
		return Page{}, fmt.Errorf("kv: list %s: %w", ns, err)
	}
	return p, nil
}

func (p *Page) lastKey() []byte { return []byte(p.Entries[len(p.Entries)-1].Key) }

// NamespaceInfo describes a namespace.
type NamespaceInfo struct {
	// Name is the namespace name.
	Name string
	// Keys is the number of live keys.
	Keys int
	// Bytes is the total length of the live keys and their values.
	Bytes int64
}

// Namespaces lists every namespace that has ever been written, in
// ascending order of name, with its live key count and size.
func (s *Store) Namespaces() ([]NamespaceInfo, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	nowMs := s.clock.Now().UnixMilli()
	var out []NamespaceInfo
	err := s.db.View(func(tx *bbolt.Tx) error {
		all := namespacesBucket(tx)
		if all == nil {
			return nil
		}
		return all.ForEachBucket(func(name []byte) error {
			nb, ok := nsFrom(all.Bucket(name))
			if !ok {
				return nil
			}
			info, err := statOf(nb, string(name), nowMs)
			if err != nil {
				return err
			}
			out = append(out, info)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("kv: namespaces: %w", err)
	}
	return out, nil
}

// Stat returns the live key count and size of namespace ns; a namespace
// never written is empty, not an error.
func (s *Store) Stat(ns string) (NamespaceInfo, error) {
	if err := checkNamespace(ns); err != nil {
		return NamespaceInfo{}, err
	}
	if s.closed.Load() {
		return NamespaceInfo{}, ErrClosed
	}
	nowMs := s.clock.Now().UnixMilli()
	info := NamespaceInfo{Name: ns}
	err := s.db.View(func(tx *bbolt.Tx) error {
		nb, ok := openNS(tx, ns)
		if !ok {
			return nil
		}
		var err error
		info, err = statOf(nb, ns, nowMs)
		return err
	})
	if err != nil {
		return NamespaceInfo{}, fmt.Errorf("kv: stat %s: %w", ns, err)
	}
	return info, nil
}

// statOf reads the namespace counters and subtracts the keys that have
// expired but are not purged yet, so the figures are exact.
func statOf(nb nsBucket, name string, nowMs int64) (NamespaceInfo, error) {
	st, err := nb.stats()
	if err != nil {
		return NamespaceInfo{}, fmt.Errorf("namespace %q: %w", name, err)
	}
	ek, eb := nb.expiredAt(nowMs)
	keys, size := st.keys-min(ek, st.keys), st.bytes-min(eb, st.bytes)
	return NamespaceInfo{Name: strings.Clone(name), Keys: int(keys), Bytes: int64(size)}, nil
}
