package kv

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/fuzzseed"
	"github.com/wedge-run/wedge/internal/hlc"
)

func sameRecord(a, b record) bool {
	return a.version == b.version && a.stamp == b.stamp && a.node == b.node && a.tombstone == b.tombstone &&
		a.expires == b.expires && a.deletedAt == b.deletedAt && bytes.Equal(a.value, b.value)
}

func seedRecords() []record {
	st := hlc.Timestamp{Wall: 1_700_000_000_123, Logical: 9}
	return []record{
		{version: 1, stamp: st, node: "n1", value: []byte("hello")},
		{version: 1 << 40, stamp: st, value: []byte{}},
		{version: 7, stamp: st, node: "node-b", expires: 1_700_000_010_000, value: bytes.Repeat([]byte{0}, 40)},
		{version: 3, stamp: st, node: "node-c", tombstone: true, deletedAt: 1_700_000_020_000},
		{version: 300, stamp: hlc.Timestamp{Wall: 1, Logical: 2}, node: "ab", expires: 5, value: []byte("v")},
	}
}

// FuzzDecodeRecord: a stored record (the bytes a corrupted or foreign
// database file may hold) decodes or fails with errCorrupt; what decodes
// has a node and value no longer than the input, and re-encodes to a
// record that decodes to the same thing.
func FuzzDecodeRecord(f *testing.F) {
	for _, r := range seedRecords() {
		fuzzseed.Add(f, r.encode(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v is not errCorrupt", err)
			}
			return
		}
		if len(r.node)+len(r.value) > len(b) {
			t.Fatalf("node %d + value %d bytes from %d", len(r.node), len(r.value), len(b))
		}
		again, err := decodeRecord(r.encode(nil))
		if err != nil || !sameRecord(r, again) {
			t.Fatalf("re-encoding %+v decodes to %+v, %v", r, again, err)
		}
	})
}

// FuzzRecordRoundTrip: every record the store can write decodes to
// itself, and encodedLen bounds its encoding.
func FuzzRecordRoundTrip(f *testing.F) {
	for _, r := range seedRecords() {
		fuzzseed.Add(f, r.version, r.stamp.Wall, uint64(r.stamp.Logical), r.node, r.tombstone, r.expires+r.deletedAt, r.value)
	}
	f.Fuzz(func(t *testing.T, version uint64, wall int64, logical uint64, node string, tomb bool, at int64, value []byte) {
		if wall < 0 {
			wall = -(wall + 1) // the encoding holds non-negative wall times
		}
		r := record{version: version, stamp: hlc.Timestamp{Wall: wall, Logical: uint32(logical)}, node: node, tombstone: tomb}
		if tomb {
			r.deletedAt = at
		} else {
			r.expires, r.value = at, value
		}
		b := r.encode(nil)
		if len(b) > r.encodedLen() {
			t.Fatalf("encodedLen %d < %d", r.encodedLen(), len(b))
		}
		got, err := decodeRecord(b)
		if err != nil || !sameRecord(r, got) {
			t.Fatalf("%+v decodes to %+v, %v", r, got, err)
		}
	})
}

// FuzzListCursor: a client's cursor decodes to a key under the prefix of
// at most MaxKeyLen bytes or fails with ErrInvalidCursor, and the cursor
// List would hand out for that key leads back to it.
func FuzzListCursor(f *testing.F) {
	fuzzseed.Add(f, encodeCursor([]byte("note/1")), "note/")
	fuzzseed.Add(f, encodeCursor([]byte("a")), "")
	fuzzseed.Add(f, encodeCursor([]byte(strings.Repeat("k", MaxKeyLen))), "k")
	fuzzseed.Add(f, encodeCursor([]byte(strings.Repeat("k", MaxKeyLen+1))), "")
	fuzzseed.Add(f, "AQ", "")
	fuzzseed.Add(f, "not base64!", "")
	f.Fuzz(func(t *testing.T, cursor, prefix string) {
		key, err := decodeCursor(cursor, prefix)
		if err != nil {
			if !errors.Is(err, ErrInvalidCursor) {
				t.Fatalf("error %v is not ErrInvalidCursor", err)
			}
			return
		}
		if len(key) == 0 || len(key) > MaxKeyLen || !bytes.HasPrefix(key, []byte(prefix)) {
			t.Fatalf("cursor %q (prefix %q) decodes to key %q", cursor, prefix, key)
		}
		back, err := decodeCursor(encodeCursor(key), prefix)
		if err != nil || !bytes.Equal(back, key) {
			t.Fatalf("key %q: cursor leads to %q, %v", key, back, err)
		}
	})
}

// FuzzNamespaceStats: the per-namespace counters decode or fail with
// errCorrupt, and whatever decodes encodes back to what was read.
func FuzzNamespaceStats(f *testing.F) {
	fuzzseed.Add(f, nsStats{}.encode())
	fuzzseed.Add(f, nsStats{keys: 3, bytes: 1 << 33, floor: 300}.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeStats(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v is not errCorrupt", err)
			}
			return
		}
		if again, err := decodeStats(s.encode()); err != nil || again != s {
			t.Fatalf("%+v re-decodes to %+v, %v", s, again, err)
		}
	})
}
