package kv

import (
	"bytes"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/wedge-run/wedge/internal/hlc"
)

// Record describes one stored record of a key, a live value or a
// tombstone, without its value: what anti-entropy compares.
type Record struct {
	// Key is the key.
	Key string
	// Version is the record's version on this node.
	Version uint64
	// Stamp and Node identify the write that produced the record.
	Stamp hlc.Timestamp
	Node  string
	// Deleted marks a tombstone (a deleted key, or an expired one that
	// the purge has handled).
	Deleted bool
	// Expires is the expiry of a live value (zero: none). A value past
	// its expiry that the purge has not handled yet is still a live
	// record here, with Expires in the past.
	Expires time.Time
}

// Records returns up to limit records of namespace ns, tombstones
// included, whose keys sort (bytewise) strictly after after ("" starts
// at the first key), in ascending key order, and more=true if records
// remain after the last one returned. limit <= 0 or above MaxListLimit
// means MaxListLimit. An unknown namespace has no records.
func (s *Store) Records(ns, after string, limit int) (recs []Record, more bool, err error) {
	if err := checkNamespace(ns); err != nil {
		return nil, false, err
	}
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	if s.closed.Load() {
		return nil, false, ErrClosed
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		data := openData(tx, ns)
		if data == nil {
			return nil
		}
		c := data.Cursor()
		start := []byte(after)
		k, v := c.Seek(start)
		if after != "" && bytes.Equal(k, start) {
			k, v = c.Next()
		}
		lastNode := ""
		for ; k != nil; k, v = c.Next() {
			if len(recs) == limit {
				more = true
				return nil
			}
			r, err := decodeRecordNode(v, lastNode)
			if err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			lastNode = r.node
			rec := Record{Key: string(k), Version: r.version, Stamp: r.stamp, Node: r.node, Deleted: r.tombstone}
			if r.expires != 0 {
				rec.Expires = time.UnixMilli(r.expires)
			}
			recs = append(recs, rec)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("kv: records %s: %w", ns, err)
	}
	return recs, more, nil
}

// Export returns the record held for key in namespace ns, live or
// tombstone, as the Change that reproduces it on another node through
// ApplyRemote: OpPut with Value, Expires, Stamp, Node and NewVersion for
// a value (one past its expiry included), OpDelete with Stamp, Node and
// NewVersion for a tombstone. With no record at all it returns an error
// wrapping ErrNotFound.
func (s *Store) Export(ns, key string) (Change, error) {
	if err := checkNamespaceKey(ns, key); err != nil {
		return Change{}, err
	}
	if s.closed.Load() {
		return Change{}, ErrClosed
	}
	var c Change
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
		if err != nil {
			return err
		}
		found = true
		c = Change{Namespace: ns, Key: key, Op: OpPut, NewVersion: r.version, Stamp: r.stamp, Node: r.node}
		if r.tombstone {
			c.Op = OpDelete
			return nil
		}
		c.Value = append(make([]byte, 0, len(r.value)), r.value...)
		if r.expires != 0 {
			c.Expires = time.UnixMilli(r.expires)
		}
		return nil
	})
	if err != nil {
		return Change{}, fmt.Errorf("kv: export %s/%q: %w", ns, key, err)
	}
	if !found {
		return Change{}, fmt.Errorf("%w: no record of %s/%q", ErrNotFound, ns, key)
	}
	return c, nil
}
