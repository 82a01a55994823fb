package kv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
)

func remotePut(ns, key, value string, st hlc.Timestamp, node string) Change {
	return Change{Namespace: ns, Key: key, Op: OpPut, Value: []byte(value), Stamp: st, Node: node}
}

func remoteDelete(ns, key string, st hlc.Timestamp, node string) Change {
	return Change{Namespace: ns, Key: key, Op: OpDelete, Stamp: st, Node: node}
}

func apply(t *testing.T, s *Store, c Change, want bool) {
	t.Helper()
	got, err := s.ApplyRemote(c)
	if err != nil {
		t.Fatalf("ApplyRemote(%+v): %v", c, err)
	}
	if got != want {
		t.Fatalf("ApplyRemote(%s %s/%s @%v by %s) applied = %v, want %v", c.Op, c.Namespace, c.Key, c.Stamp, c.Node, got, want)
	}
}

func shift(st hlc.Timestamp, ms int64, logical int) hlc.Timestamp {
	return hlc.Timestamp{Wall: st.Wall + ms, Logical: uint32(int(st.Logical) + logical)}
}

func TestApplyRemoteLastWriterWins(t *testing.T) {
	e := newEnv(t) // node-a
	s := e.s
	local := mustPut(t, s, "app", "k", "local", PutOptions{})

	// an older remote write loses
	apply(t, s, remotePut("app", "k", "old", shift(local.Stamp, -1000, 0), "node-z"), false)
	if g := mustGet(t, s, "app", "k"); string(g.Value) != "local" || g.Version != 1 {
		t.Fatalf("older remote write changed the key: %+v", g)
	}
	// equal stamp: the larger node id wins
	apply(t, s, remotePut("app", "k", "tie-low", local.Stamp, "node-0"), false)
	apply(t, s, remotePut("app", "k", "tie-high", local.Stamp, "node-b"), true)
	g := mustGet(t, s, "app", "k")
	if string(g.Value) != "tie-high" || g.Node != "node-b" || g.Stamp != local.Stamp || g.Version != 2 {
		t.Fatalf("after tie: %+v", g)
	}
	// a duplicate delivery changes nothing
	apply(t, s, remotePut("app", "k", "tie-high", local.Stamp, "node-b"), false)
	// a newer remote write wins, carrying its stamp, node and expiry
	newer := shift(local.Stamp, 0, 1)
	exp := e.clock.Now().Add(time.Hour).Truncate(time.Millisecond)
	c := remotePut("app", "k", "newer", newer, "node-0")
	c.Expires = exp
	c.NewVersion = 40 // the remote node's version is adopted when larger
	apply(t, s, c, true)
	g = mustGet(t, s, "app", "k")
	if string(g.Value) != "newer" || g.Node != "node-0" || g.Stamp != newer || !g.Expires.Equal(exp) || g.Version != 40 {
		t.Fatalf("after newer remote write: %+v", g)
	}

	// a remote write to an unknown key applies, whatever its age
	apply(t, s, remotePut("app", "fresh", "v", shift(local.Stamp, -5000, 0), "node-b"), true)
	if g := mustGet(t, s, "app", "fresh"); string(g.Value) != "v" || g.Version != 1 {
		t.Fatalf("fresh = %+v", g)
	}
	apply(t, s, remotePut("elsewhere", "x", "v", local.Stamp, "node-b"), true)
	mustGet(t, s, "elsewhere", "x")
}

func TestApplyRemoteDeletes(t *testing.T) {
	e := newEnv(t)
	s := e.s
	p := mustPut(t, s, "app", "k", "local", PutOptions{})
	// an older remote delete loses against a local put
	apply(t, s, remoteDelete("app", "k", shift(p.Stamp, -1, 0), "node-z"), false)
	mustGet(t, s, "app", "k")
	// a newer remote delete wins, leaving a tombstone
	del := shift(p.Stamp, 10, 0)
	apply(t, s, remoteDelete("app", "k", del, "node-b"), true)
	wantNotFound(t, s, "app", "k")
	// the tombstone defeats remote writes older than it
	apply(t, s, remotePut("app", "k", "late", shift(del, -5, 0), "node-c"), false)
	wantNotFound(t, s, "app", "k")
	// a remote delete of a key never seen here still records its tombstone
	apply(t, s, remoteDelete("app", "unseen", del, "node-b"), true)
	apply(t, s, remotePut("app", "unseen", "late", shift(del, -1, 0), "node-c"), false)
	wantNotFound(t, s, "app", "unseen")

	// a local put after a remote delete stamped in the future still wins:
	// ApplyRemote advanced the local clock
	future := hlc.Timestamp{Wall: e.clock.Now().UnixMilli() + 60_000}
	apply(t, s, remoteDelete("app", "k", future, "node-b"), true)
	again := mustPut(t, s, "app", "k", "again", PutOptions{})
	if !future.Less(again.Stamp) {
		t.Fatalf("local stamp %v not after remote %v", again.Stamp, future)
	}
	if g := mustGet(t, s, "app", "k"); string(g.Value) != "again" {
		t.Fatalf("Get = %+v", g)
	}
	// the clock advanced even for a losing change
	far := hlc.Timestamp{Wall: e.clock.Now().UnixMilli() + 120_000}
	apply(t, s, remotePut("app", "lose", "x", far, "node-b"), true)
	apply(t, s, remotePut("app", "lose", "y", shift(far, 0, 0), "node-a"), false)
	if ts := s.HLC().Now(); !far.Less(ts) {
		t.Fatalf("clock %v not after %v", ts, far)
	}

	// a remote delete against a newer local put loses
	q := mustPut(t, s, "app", "k2", "v", PutOptions{})
	apply(t, s, remoteDelete("app", "k2", shift(q.Stamp, 0, -1), "node-z"), false)
	mustGet(t, s, "app", "k2")
}

func TestApplyRemoteExpired(t *testing.T) {
	e := newEnv(t)
	s := e.s
	now := e.clock.Now()
	c := remotePut("app", "k", "v", hlc.FromTime(now), "node-b")
	c.Expires = now.Add(-time.Second)
	apply(t, s, c, true)
	wantNotFound(t, s, "app", "k")
	if exp, _, _ := s.Purge(); exp != 1 {
		t.Fatalf("Purge expired %d, want 1", exp)
	}
	// the tombstone left by the expiry keeps the write's stamp
	apply(t, s, remotePut("app", "k", "older", hlc.FromTime(now.Add(-time.Minute)), "node-c"), false)
	wantNotFound(t, s, "app", "k")
}

func TestApplyRemoteInvalid(t *testing.T) {
	e := newEnv(t)
	s := e.s
	st := hlc.Timestamp{Wall: 1_700_000_000_000}
	if ok, err := s.ApplyRemote(Change{Namespace: "app", Key: "k", Op: OpExpire, Stamp: st, Node: "b"}); ok || err != nil {
		t.Fatalf("OpExpire = %v, %v; want ignored", ok, err)
	}
	bad := []Change{
		{Namespace: "a/b", Key: "k", Op: OpPut, Stamp: st, Node: "b"},
		{Namespace: "app", Key: "", Op: OpPut, Stamp: st, Node: "b"},
		{Namespace: "app", Key: "k", Op: 0, Stamp: st, Node: "b"},
		{Namespace: "app", Key: "k", Op: 9, Stamp: st, Node: "b"},
		{Namespace: "app", Key: "k", Op: OpPut, Node: "b"},
		{Namespace: "app", Key: "k", Op: OpPut, Stamp: hlc.Timestamp{Wall: -5}, Node: "b"},
		{Namespace: "app", Key: "k", Op: OpPut, Stamp: st},
		{Namespace: "app", Key: "k", Op: OpPut, Stamp: st, Node: "b", Value: make([]byte, MaxValueLen+1)},
	}
	for _, c := range bad {
		if _, err := s.ApplyRemote(c); !errors.Is(err, ErrInvalidChange) {
			t.Errorf("ApplyRemote(%s %q/%q node %q stamp %v) = %v, want ErrInvalidChange", c.Op, c.Namespace, c.Key, c.Node, c.Stamp, err)
		}
	}
	if ns, _ := s.Namespaces(); len(ns) != 0 {
		t.Fatalf("invalid changes created %+v", ns)
	}
}

// TestReplicasConverge runs random writes on two stores with skewed
// clocks, delivers each store's changes to the other in random order and
// with duplicates, and checks that both end in the same state.
func TestReplicasConverge(t *testing.T) {
	a := newEnv(t, func(o *Options) { o.NodeID = "node-a" })
	b := newEnv(t, func(o *Options) { o.NodeID = "node-b" })
	b.clock.Advance(-700 * time.Millisecond) // b's wall clock lags
	subA := a.s.Subscribe("", "", 10000)
	subB := b.s.Subscribe("", "", 10000)
	r := rand.New(rand.NewPCG(7, 11))
	var toB, toA []Change
	collect := func(sub *Subscription, dst *[]Change) {
		for {
			select {
			case c := <-sub.C():
				if !c.Remote && c.Op != OpExpire {
					*dst = append(*dst, c)
				}
			default:
				return
			}
		}
	}
	deliver := func(s *Store, q *[]Change, n int) {
		for range n {
			if len(*q) == 0 {
				return
			}
			i := r.IntN(len(*q))
			c := (*q)[i]
			if r.IntN(5) > 0 { // sometimes keep it for a duplicate delivery later
				(*q)[i] = (*q)[len(*q)-1]
				*q = (*q)[:len(*q)-1]
			}
			if _, err := s.ApplyRemote(c); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 600 {
		e := a
		if r.IntN(2) == 0 {
			e = b
		}
		e.clock.Advance(time.Duration(r.IntN(3)) * time.Millisecond)
		key := fmt.Sprintf("k%d", r.IntN(12))
		var err error
		switch r.IntN(4) {
		case 0, 1:
			_, err = e.s.Put(context.Background(), "app", key, fmt.Appendf(nil, "%s-%d", e.opts.NodeID, i), PutOptions{})
		case 2:
			err = e.s.Delete(context.Background(), "app", key, nil)
		case 3:
			_, _, err = e.s.Increment(context.Background(), "app", "counter", 1)
		}
		if err != nil {
			t.Fatal(err)
		}
		collect(subA, &toB)
		collect(subB, &toA)
		deliver(b.s, &toB, r.IntN(3))
		deliver(a.s, &toA, r.IntN(3))
	}
	for range 100 { // drain, bounded
		collect(subA, &toB)
		collect(subB, &toA)
		if len(toA)+len(toB) == 0 {
			break
		}
		deliver(b.s, &toB, len(toB))
		deliver(a.s, &toA, len(toA))
	}
	if len(toA)+len(toB) != 0 {
		t.Fatal("replication did not drain")
	}
	dump := func(s *Store) map[string]string {
		m := map[string]string{}
		p, err := s.List("app", ListOptions{Limit: MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range p.Entries {
			m[en.Key] = fmt.Sprintf("%s @%v by %s", en.Value, en.Stamp, en.Node)
		}
		return m
	}
	da, db := dump(a.s), dump(b.s)
	if fmt.Sprint(da) != fmt.Sprint(db) {
		t.Fatalf("replicas diverged:\na: %v\nb: %v", da, db)
	}
	if len(da) == 0 {
		t.Fatal("nothing survived; the test proves little")
	}
}
