package kv

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestAntiEntropyRepairsAPeer: a node that missed every broadcast
// catches up by walking another node's Records and applying the Export of
// each, tombstones included.
func TestAntiEntropyRepairsAPeer(t *testing.T) {
	a := newEnv(t, func(o *Options) { o.NodeID = "node-a" })
	b := newEnv(t, func(o *Options) { o.NodeID = "node-b" })
	mustPut(t, a.s, "app", "live", "1", PutOptions{})
	mustPut(t, a.s, "app", "ttl", "2", PutOptions{TTL: time.Hour})
	gone := mustPut(t, a.s, "app", "gone", "3", PutOptions{})
	mustPut(t, a.s, "other", "x", "4", PutOptions{})
	// b holds an old value of a key that a has deleted since
	apply(t, b.s, remotePut("app", "gone", "stale", gone.Stamp, "node-a"), true)
	if err := a.s.Delete(context.Background(), "app", "gone", nil); err != nil {
		t.Fatal(err)
	}

	recs, more, err := a.s.Records("app", "", 0)
	if err != nil || more || len(recs) != 3 {
		t.Fatalf("Records = %+v, %v, %v", recs, more, err)
	}
	if r := recs[0]; r.Key != "gone" || !r.Deleted || r.Version != 2 || r.Node != "node-a" || !gone.Stamp.Less(r.Stamp) {
		t.Fatalf("tombstone record = %+v", r)
	}
	if r := recs[2]; r.Key != "ttl" || r.Deleted || r.Expires.IsZero() {
		t.Fatalf("ttl record = %+v", r)
	}
	// paging
	page, more, _ := a.s.Records("app", "", 2)
	if len(page) != 2 || !more || page[1].Key != "live" {
		t.Fatalf("first page = %+v, %v", page, more)
	}
	page, more, _ = a.s.Records("app", "live", 2)
	if len(page) != 1 || more || page[0].Key != "ttl" {
		t.Fatalf("second page = %+v, %v", page, more)
	}
	if r, more, err := a.s.Records("nothing", "", 0); r != nil || more || err != nil {
		t.Fatalf("Records of unknown namespace = %v, %v, %v", r, more, err)
	}

	for _, ns := range []string{"app", "other"} {
		recs, _, _ := a.s.Records(ns, "", 0)
		for _, r := range recs {
			c, err := a.s.Export(ns, r.Key)
			if err != nil {
				t.Fatal(err)
			}
			if c.Stamp != r.Stamp || c.Node != r.Node || c.NewVersion != r.Version || (c.Op == OpDelete) != r.Deleted {
				t.Fatalf("Export %s/%s = %+v, record %+v", ns, r.Key, c, r)
			}
			if _, err := b.s.ApplyRemote(c); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, k := range []string{"live", "ttl"} {
		ga, gb := mustGet(t, a.s, "app", k), mustGet(t, b.s, "app", k)
		if string(ga.Value) != string(gb.Value) || ga.Stamp != gb.Stamp || ga.Node != gb.Node || !ga.Expires.Equal(gb.Expires) {
			t.Fatalf("%s: a %+v, b %+v", k, ga, gb)
		}
	}
	wantNotFound(t, b.s, "app", "gone")
	mustGet(t, b.s, "other", "x")
	// the same records on both sides now
	ra, _, _ := a.s.Records("app", "", 0)
	rb, _, _ := b.s.Records("app", "", 0)
	strip := func(rs []Record) string {
		out := ""
		for _, r := range rs {
			out += fmt.Sprintf("%s %v %s %v %v;", r.Key, r.Stamp, r.Node, r.Deleted, r.Expires.UnixMilli())
		}
		return out
	}
	if strip(ra) != strip(rb) {
		t.Fatalf("records differ:\na %s\nb %s", strip(ra), strip(rb))
	}

	if _, err := a.s.Export("app", "never"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Export of absent key = %v", err)
	}
	if _, err := a.s.Export("a/b", "k"); !errors.Is(err, ErrInvalidNamespace) {
		t.Fatalf("Export with bad namespace = %v", err)
	}
	if err := a.s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.s.Export("app", "live"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Export after Close = %v", err)
	}
	if _, _, err := a.s.Records("app", "", 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Records after Close = %v", err)
	}
}
