package kv

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
)

// record is one stored version of a key: a live value or a tombstone.
// Its binary form is described in doc.go ("Record format").
type record struct {
	version   uint64
	stamp     hlc.Timestamp
	node      string
	tombstone bool
	expires   int64  // live records: expiry in Unix ms, 0 = none
	deletedAt int64  // tombstones: local time of deletion in Unix ms
	value     []byte // live records; aliases the decoded buffer
}

const (
	recordFormat   = 0x10 // high nibble of the first byte: format version 1
	flagTombstone  = 0x01
	flagExpires    = 0x02
	recordFlagMask = 0x0f
)

// visibleAt reports whether the record is a live value at nowMs.
func (r *record) visibleAt(nowMs int64) bool {
	return !r.tombstone && (r.expires == 0 || nowMs < r.expires)
}

// encode appends the binary form of r to b.
func (r *record) encode(b []byte) []byte {
	flags := byte(recordFormat)
	if r.tombstone {
		flags |= flagTombstone
	} else if r.expires != 0 {
		flags |= flagExpires
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, r.version)
	b = r.stamp.Append(b)
	switch {
	case r.tombstone:
		b = binary.BigEndian.AppendUint64(b, uint64(r.deletedAt))
	case r.expires != 0:
		b = binary.BigEndian.AppendUint64(b, uint64(r.expires))
	}
	b = binary.AppendUvarint(b, uint64(len(r.node)))
	b = append(b, r.node...)
	if !r.tombstone {
		b = append(b, r.value...)
	}
	return b
}

// encodedLen is an upper bound of len(r.encode(nil)).
func (r *record) encodedLen() int {
	return 1 + binary.MaxVarintLen64 + hlc.EncodedLen + 8 + binary.MaxVarintLen64 + len(r.node) + len(r.value)
}

// decodeRecord parses b. The returned value aliases b.
func decodeRecord(b []byte) (record, error) { return decodeRecordNode(b, "") }

// decodeRecordNode is decodeRecord reusing the string node when the
// record's node id equals it, to save an allocation.
func decodeRecordNode(b []byte, node string) (record, error) {
	var r record
	if len(b) < 1 || b[0]&^recordFlagMask != recordFormat {
		return r, fmt.Errorf("%w: unknown format", errCorrupt)
	}
	flags := b[0]
	b = b[1:]
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return r, fmt.Errorf("%w: bad version", errCorrupt)
	}
	r.version = v
	b = b[n:]
	if len(b) < hlc.EncodedLen {
		return r, fmt.Errorf("%w: short stamp", errCorrupt)
	}
	st, err := hlc.Decode(b[:hlc.EncodedLen])
	if err != nil {
		return r, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	r.stamp = st
	b = b[hlc.EncodedLen:]
	r.tombstone = flags&flagTombstone != 0
	if r.tombstone || flags&flagExpires != 0 {
		if len(b) < 8 {
			return r, fmt.Errorf("%w: short time", errCorrupt)
		}
		t := int64(binary.BigEndian.Uint64(b))
		if r.tombstone {
			r.deletedAt = t
		} else {
			r.expires = t
		}
		b = b[8:]
	}
	nl, n := binary.Uvarint(b)
	if n <= 0 || nl > uint64(len(b)-n) {
		return r, fmt.Errorf("%w: bad node id", errCorrupt)
	}
	b = b[n:]
	if string(b[:nl]) == node {
		r.node = node
	} else {
		r.node = string(b[:nl])
	}
	b = b[nl:]
	if r.tombstone {
		if len(b) != 0 {
			return r, fmt.Errorf("%w: tombstone with value", errCorrupt)
		}
	} else {
		r.value = b
	}
	return r, nil
}

// entry converts a live record into an Entry, copying the value unless
// keysOnly.
func (r *record) entry(key string, keysOnly bool) Entry {
	e := Entry{Key: key, Version: r.version, Stamp: r.stamp, Node: r.node}
	if r.expires != 0 {
		e.Expires = time.UnixMilli(r.expires)
	}
	if !keysOnly {
		e.Value = append(make([]byte, 0, len(r.value)), r.value...)
	}
	return e
}

// expiryMs returns the Unix millisecond at which a value written at now
// with ttl expires, rounded up so a value never expires early; 0 if ttl
// is 0.
func expiryMs(now time.Time, ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	t := now.Add(ttl)
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// nsStats is the per-namespace counter record: live records (including
// expired ones not yet purged), their bytes (key + value), and the
// highest version of any key removed for good (so re-created keys never
// reuse a version).
type nsStats struct {
	keys  uint64
	bytes uint64
	floor uint64
}

func (s nsStats) encode() []byte {
	b := make([]byte, 0, 3*binary.MaxVarintLen64)
	b = binary.AppendUvarint(b, s.keys)
	b = binary.AppendUvarint(b, s.bytes)
	return binary.AppendUvarint(b, s.floor)
}

func decodeStats(b []byte) (nsStats, error) {
	var s nsStats
	if b == nil {
		return s, nil
	}
	for _, p := range []*uint64{&s.keys, &s.bytes, &s.floor} {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nsStats{}, fmt.Errorf("%w: bad namespace stats", errCorrupt)
		}
		*p = v
		b = b[n:]
	}
	return s, nil
}
