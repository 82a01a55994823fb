package cluster

import (
	"encoding/json"
	"errors"
	"net"
	"reflect"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/fuzzseed"
	"github.com/wedge-run/wedge/internal/kv"
)

// The gossip and peer decoders read bytes from the network. Each target
// checks that they fail with ErrMalformed rather than panic, that nothing
// decoded is longer than its input, and that what decodes survives a
// round trip through the encoder.

func seedChanges() []kv.Change {
	return []kv.Change{
		{Namespace: "app", Key: "k", Op: kv.OpPut, NewVersion: 3, Value: []byte("v"), Stamp: stamp, Node: "n1"},
		{Namespace: "app", Key: "empty", Op: kv.OpPut, NewVersion: 1, Value: []byte{}, Stamp: stamp, Node: "n1", Expires: time.UnixMilli(1_800_000_000_000)},
		{Namespace: "a.b-c_d", Key: "ключ/with/slashes", Op: kv.OpDelete, NewVersion: 9, Stamp: stamp, Node: "node-2"},
	}
}

// FuzzDecodeChange: a KV change (gossip msgKVChange, the records
// endpoint's stream).
func FuzzDecodeChange(f *testing.F) {
	for _, c := range seedChanges() {
		fuzzseed.Add(f, encodeKVMessage(&c, c.Node)[1:])
		two := appendChange(appendChange(nil, &c), &c)
		fuzzseed.Add(f, two)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, rest, err := decodeChange(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if len(c.Namespace)+len(c.Key)+len(c.Node)+len(c.Value)+len(rest) > len(b) {
			t.Fatalf("decoded more bytes than the %d read", len(b))
		}
		again, rest2, err := decodeChange(appendChange(nil, &c))
		if err != nil || len(rest2) != 0 || !reflect.DeepEqual(again, c) {
			t.Fatalf("%+v re-decodes to %+v (rest %q), %v", c, again, rest2, err)
		}
	})
}

// FuzzDecodeAnnounce: a KV announcement (gossip msgKVAnnounce).
func FuzzDecodeAnnounce(f *testing.F) {
	for _, c := range seedChanges() {
		fuzzseed.Add(f, encodeKVAnnounce(c.Op, c.Namespace, c.Key, c.Stamp, c.Node, "relay", len(c.Value)+5000)[1:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeAnnounce(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if len(a.Namespace)+len(a.Key)+len(a.Node)+len(a.From) > len(b) {
			t.Fatalf("decoded more bytes than the %d read", len(b))
		}
		again, err := decodeAnnounce(appendAnnounce(nil, &a))
		if err != nil || again != a {
			t.Fatalf("%+v re-decodes to %+v, %v", a, again, err)
		}
	})
}

// FuzzDecodeFunction: a function record (gossip msgFunction, JSON) and
// a function announcement (msgFunctionAnnounce).
func FuzzDecodeFunction(f *testing.F) {
	recs := []FunctionRecord{
		{Name: "f", Stamp: stamp, Node: "n"},
		{Name: "hello", SHA256: strings.Repeat("ab", 32), Spec: []byte(`{"routes":["/hello"]}`), Stamp: stamp, Node: "node-1"},
		{Name: "gone", Deleted: true, Stamp: stamp, Node: "node-2"},
	}
	for _, r := range recs {
		fuzzseed.Add(f, encodeFunction(r)[1:])
		fuzzseed.Add(f, encodeFunctionAnnounce(r, "relay")[1:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeFunction(b); err == nil {
			if len(r.Name)+len(r.SHA256)+len(r.Node)+len(r.Spec) > len(b) {
				t.Fatalf("decoded more bytes than the %d read", len(b))
			}
			again, err := decodeFunction(encodeFunction(r)[1:])
			if err != nil || !reflect.DeepEqual(normSpec(again), normSpec(r)) {
				t.Fatalf("%+v re-decodes to %+v, %v", r, again, err)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v is not ErrMalformed", err)
		}
		if a, err := decodeFunctionAnnounce(b); err == nil {
			if len(a.Name)+len(a.Node)+len(a.From) > len(b) {
				t.Fatalf("decoded more bytes than the %d read", len(b))
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v is not ErrMalformed", err)
		}
	})
}

// normSpec treats an empty spec and no spec alike (omitempty).
func normSpec(r FunctionRecord) FunctionRecord {
	if len(r.Spec) == 0 {
		r.Spec = nil
	}
	return r
}

// FuzzDecodeEntries: a peer's entries page (anti-entropy repair).
func FuzzDecodeEntries(f *testing.F) {
	es := []EntryMeta{{Key: "a", Stamp: stamp, Node: "n1"}, {Key: "b/c", Stamp: stamp, Node: "n2", Deleted: true}, {Stamp: stamp}}
	fuzzseed.Add(f, appendEntries(nil, nil, false))
	fuzzseed.Add(f, appendEntries(nil, es, true))
	fuzzseed.Add(f, appendEntries(nil, es[:1], false))
	// A count as large as the page made the decoder reserve 56 bytes per
	// byte read (224 MiB for a 4 MiB page) before reading an entry.
	fuzzseed.Add(f, append([]byte{0, 0xe8, 0x07}, make([]byte, 1000)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The least of three measurements, so that another goroutine's
		// allocations (a node left by an earlier test) cannot fail it.
		least := ^uint64(0)
		var before, after goruntime.MemStats
		for range 3 {
			goruntime.ReadMemStats(&before)
			decodeEntries(b)
			goruntime.ReadMemStats(&after)
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		if least > uint64(8*len(b)+4096) {
			t.Fatalf("allocated %d bytes to decode %d", least, len(b))
		}
		out, more, err := decodeEntries(b)
		if cap(out) > len(b)/minEntryBytes+1 {
			t.Fatalf("reserved %d entries for %d bytes", cap(out), len(b))
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		again, more2, err := decodeEntries(appendEntries(nil, out, more))
		if err != nil || more2 != more || len(again) != len(out) || (len(out) > 0 && !reflect.DeepEqual(again, out)) {
			t.Fatalf("%+v re-decodes to %+v, %v", out, again, err)
		}
	})
}

// FuzzDecodeMeta: the node metadata in memberlist's alive messages.
func FuzzDecodeMeta(f *testing.F) {
	fuzzseed.Add(f, encodeMeta(NodeMeta{PublicAddr: "127.0.0.1:8080", AdminAddr: ":8081", Version: "v1"}, Load{InFlight: 3, Limit: 64}, map[string]int64{"chat-messages": 1796293587232}))
	fuzzseed.Add(f, encodeMeta(NodeMeta{PublicAddr: "[::]:80", AdminAddr: "http://x"}, Load{}, nil))
	fuzzseed.Add(f, []byte{})
	ip := net.ParseIP("127.0.0.9")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, l, serving := decodeMeta(b, ip)
		if len(m.Version) > len(b) {
			t.Fatalf("version of %d bytes from %d", len(m.Version), len(b))
		}
		if len(serving) > len(b) {
			t.Fatalf("%d serving entries from %d bytes", len(serving), len(b))
		}
		m2, l2, serving2 := decodeMeta(encodeMeta(m, l, serving), ip)
		if m2 != m || l2 != l || len(serving2) != len(serving) {
			t.Fatalf("%+v %+v %v re-decode to %+v %+v %v", m, l, serving, m2, l2, serving2)
		}
	})
}

// FuzzMergeState: a peer's push/pull state and a peer's function list
// (repair) reach a live node without panicking it. Seeds are the states
// real nodes send.
func FuzzMergeState(f *testing.F) {
	n := startNode(f, "fuzz-state")
	peer := startNode(f, "fuzz-peer")
	peer.reg.local(FunctionRecord{Name: "f", Stamp: stamp, Node: "fuzz-peer"})
	fuzzseed.Add(f, n.c.localState())
	fuzzseed.Add(f, peer.c.localState())
	recs, _ := json.Marshal([]wireFunction{toWire(FunctionRecord{Name: "f", Stamp: stamp, Node: "n"}), {Name: "x"}})
	fuzzseed.Add(f, recs)
	f.Fuzz(func(t *testing.T, b []byte) {
		n.c.mergeState(b, false)
		n.c.mergeState(b, true)
		var ws []wireFunction
		if json.Unmarshal(b, &ws) == nil {
			n.c.mergeFunctions(ws, n.c.horizon())
		}
	})
}
