package cluster

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/fuzzseed"
	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/kv"
)

var stamp = hlc.Timestamp{Wall: 1_700_000_000_123, Logical: 7}

func TestChangeEncoding(t *testing.T) {
	for _, c := range []kv.Change{
		{Namespace: "app", Key: "k", Op: kv.OpPut, NewVersion: 3, Value: []byte("v"), Stamp: stamp, Node: "n1"},
		{Namespace: "app", Key: "empty", Op: kv.OpPut, NewVersion: 1, Value: []byte{}, Stamp: stamp, Node: "n1", Expires: time.UnixMilli(1_800_000_000_000)},
		{Namespace: "a.b-c_d", Key: "ключ/with/slashes", Op: kv.OpDelete, NewVersion: 9, Stamp: stamp, Node: "node-2"},
	} {
		b := appendChange(nil, &c)
		got, rest, err := decodeChange(append(b, 0xff))
		if err != nil || !bytes.Equal(rest, []byte{0xff}) {
			t.Fatalf("decode %+v: %v, rest %x", c, err, rest)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
		}
		for i := range len(b) - 1 {
			if _, _, err := decodeChange(b[:i]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("truncated at %d: %v", i, err)
			}
		}
	}
}

func TestKVMessageInlineOrAnnounced(t *testing.T) {
	small := kv.Change{Namespace: "app", Key: "k", Op: kv.OpPut, Value: make([]byte, 900), Stamp: stamp, Node: "n1"}
	msg := encodeKVMessage(&small, "n1")
	if msgType(msg[0]) != msgKVChange || len(msg) > maxInlineMsg {
		t.Fatalf("900-byte value: type %d, %d bytes", msg[0], len(msg))
	}
	big := small
	big.Value = make([]byte, 2048)
	big.Key = strings.Repeat("k", kv.MaxKeyLen)
	msg = encodeKVMessage(&big, "relay")
	if msgType(msg[0]) != msgKVAnnounce || len(msg) > maxInlineMsg {
		t.Fatalf("2 KiB value: type %d, %d bytes", msg[0], len(msg))
	}
	a, err := decodeAnnounce(msg[1:])
	if err != nil {
		t.Fatal(err)
	}
	want := announce{Op: kv.OpPut, Namespace: "app", Key: big.Key, Stamp: stamp, Node: "n1", From: "relay", Size: 2048}
	if a != want {
		t.Fatalf("announce = %+v", a)
	}
	// a long key and namespace push even a small value out of line
	mid := small
	mid.Value = make([]byte, 600)
	mid.Key = strings.Repeat("k", kv.MaxKeyLen)
	if msg := encodeKVMessage(&mid, "n1"); msgType(msg[0]) != msgKVAnnounce {
		t.Fatalf("long key + 600-byte value sent inline: %d bytes", len(msg))
	}
}

func TestFunctionEncoding(t *testing.T) {
	rec := FunctionRecord{Name: "hello", SHA256: strings.Repeat("a", 64), Spec: []byte(`{"routes":["/x"]}`), Stamp: stamp, Node: "n1"}
	msg := encodeFunction(rec)
	got, err := decodeFunction(msg[1:])
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{`{}`, `{"n":"x","w":1}`, `{"n":"x","o":"n"}`, `not json`} {
		if _, err := decodeFunction([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestEntriesEncoding(t *testing.T) {
	entries := []EntryMeta{{Key: "a", Stamp: stamp, Node: "n1"}, {Key: "b", Stamp: stamp, Node: "n2", Deleted: true}}
	got, more, err := decodeEntries(appendEntries(nil, entries, true))
	if err != nil || !more || !reflect.DeepEqual(got, entries) {
		t.Fatalf("round trip: %+v %v %v", got, more, err)
	}
	got, more, err = decodeEntries(appendEntries(nil, nil, false))
	if err != nil || more || len(got) != 0 {
		t.Fatalf("empty page: %+v %v %v", got, more, err)
	}
	if _, _, err := decodeEntries([]byte{0, 200}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("lying count: %v", err)
	}
}

func TestDigest(t *testing.T) {
	es := []EntryMeta{{Key: "a", Stamp: stamp, Node: "n1"}, {Key: "b", Stamp: stamp, Node: "n1", Deleted: true}, {Key: "c", Stamp: stamp, Node: "n2"}}
	d := DigestOf(es)
	if r := DigestOf([]EntryMeta{es[2], es[0], es[1]}); r != d {
		t.Fatal("digest depends on order")
	}
	var inc Digest
	inc.Add("a", stamp, "n1")
	inc.Add("x", stamp, "n1")
	inc.Add("b", stamp, "n1")
	inc.Remove("x", stamp, "n1")
	inc.Add("c", stamp, "n2")
	if inc != d {
		t.Fatal("incremental digest differs")
	}
	other := DigestOf([]EntryMeta{es[0], es[1], {Key: "c", Stamp: stamp, Node: "n3"}})
	if other == d || other.Count != d.Count {
		t.Fatal("a different writer does not change the digest")
	}
}

// FuzzNotifyMsg: no message, however malformed, makes a node panic.
func FuzzNotifyMsg(f *testing.F) {
	c := kv.Change{Namespace: "app", Key: "k", Op: kv.OpPut, Value: []byte("v"), Stamp: stamp, Node: "n1"}
	fuzzseed.Add(f, encodeKVMessage(&c, "n1"))
	fuzzseed.Add(f, encodeKVAnnounce(kv.OpDelete, "app", "k", stamp, "n1", "n2", 0))
	fuzzseed.Add(f, encodeFunction(FunctionRecord{Name: "f", Stamp: stamp, Node: "n"}))
	fuzzseed.Add(f, encodeFunctionAnnounce(FunctionRecord{Name: "f", Stamp: stamp, Node: "n"}, "n"))
	fuzzseed.Add(f, []byte{5, '{', '}'})
	fuzzseed.Add(f, []byte{99})
	n := startNode(f, "fuzz")
	f.Fuzz(func(t *testing.T, b []byte) {
		delegate{n.c}.NotifyMsg(b)
		_, _, _ = decodeEntries(b)
		n.c.mergeState(b, false)
	})
}
