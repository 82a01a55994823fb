package kv

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
)

func TestRecordRoundTrip(t *testing.T) {
	st := hlc.Timestamp{Wall: 1_700_000_000_123, Logical: 9}
	recs := []record{
		{version: 1, stamp: st, node: "n1", value: []byte("hello")},
		{version: 1 << 40, stamp: st, node: "", value: []byte{}},
		{version: 7, stamp: st, node: "node-b", expires: 1_700_000_010_000, value: bytes.Repeat([]byte{0}, 300)},
		{version: 3, stamp: st, node: "node-c", tombstone: true, deletedAt: 1_700_000_020_000},
	}
	for _, r := range recs {
		b := r.encode(nil)
		if len(b) > r.encodedLen() {
			t.Fatalf("encodedLen %d < actual %d", r.encodedLen(), len(b))
		}
		got, err := decodeRecord(b)
		if err != nil {
			t.Fatalf("decode %+v: %v", r, err)
		}
		if got.version != r.version || got.stamp != r.stamp || got.node != r.node || got.tombstone != r.tombstone ||
			got.expires != r.expires || got.deletedAt != r.deletedAt || !bytes.Equal(got.value, r.value) {
			t.Fatalf("round trip %+v -> %+v", r, got)
		}
	}
	// the documented layout, byte for byte
	r := record{version: 300, stamp: hlc.Timestamp{Wall: 1, Logical: 2}, node: "ab", expires: 5, value: []byte("v")}
	want := []byte{0x12, 0xac, 0x02, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5, 2, 'a', 'b', 'v'}
	if got := r.encode(nil); !bytes.Equal(got, want) {
		t.Fatalf("encode = %x, want %x", got, want)
	}
}

func TestRecordCorrupt(t *testing.T) {
	good := (&record{version: 1, stamp: hlc.Timestamp{Wall: 1}, node: "n", expires: 9, value: []byte("v")}).encode(nil)
	tomb := (&record{version: 1, stamp: hlc.Timestamp{Wall: 1}, node: "n", tombstone: true, deletedAt: 1}).encode(nil)
	cases := [][]byte{
		nil,
		{0x20},             // unknown format
		{0x10},             // no version
		{0x10, 0x80},       // truncated varint
		{0x10, 1, 0, 0, 0}, // short stamp
		good[:1+1+12+4],    // short expiry
		good[:1+1+12+8],    // missing node length
		append(tomb, 'x'),  // tombstone with a value
		{0x10, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // stamp out of range
	}
	for _, b := range cases {
		if _, err := decodeRecord(b); !errors.Is(err, errCorrupt) {
			t.Errorf("decodeRecord(%x) = %v, want errCorrupt", b, err)
		}
	}
	bad := append([]byte{}, good[:len(good)-2]...)
	bad[len(bad)-1] = 50 // node length beyond the end
	if _, err := decodeRecord(bad); !errors.Is(err, errCorrupt) {
		t.Errorf("node length overflow: %v", err)
	}
}

func TestExpiryRoundsUp(t *testing.T) {
	now := time.UnixMilli(1000).Add(300 * time.Microsecond)
	if got := expiryMs(now, time.Millisecond); got != 1002 {
		t.Fatalf("expiryMs = %d, want 1002", got)
	}
	if got := expiryMs(time.UnixMilli(1000), time.Second); got != 2000 {
		t.Fatalf("expiryMs = %d, want 2000", got)
	}
	if got := expiryMs(now, 0); got != 0 {
		t.Fatalf("expiryMs without TTL = %d", got)
	}
}

func TestOpString(t *testing.T) {
	for op, want := range map[Op]string{OpPut: "put", OpDelete: "delete", OpExpire: "expire", 0: "op(0)", 42: "op(42)"} {
		if got := op.String(); got != want {
			t.Errorf("Op(%d).String() = %q, want %q", op, got, want)
		}
	}
}
