package kv

import (
	"context"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
)

func TestSubscribePrefix(t *testing.T) {
	e := newEnv(t)
	s := e.s
	sub := s.Subscribe("app", "user/", 16)
	defer sub.Close()
	all := s.Subscribe("", "", 64)
	defer all.Close()

	p := mustPut(t, s, "app", "user/1", "alice", PutOptions{TTL: time.Minute})
	mustPut(t, s, "app", "other", "x", PutOptions{})        // outside the prefix
	mustPut(t, s, "elsewhere", "user/1", "x", PutOptions{}) // other namespace
	c := recv(t, sub)
	if c.Namespace != "app" || c.Key != "user/1" || c.Op != OpPut || string(c.Value) != "alice" ||
		c.OldVersion != 0 || c.NewVersion != 1 || c.Stamp != p.Stamp || c.Node != "node-a" || c.Remote ||
		!c.Expires.Equal(p.Expires) {
		t.Fatalf("put change = %+v", c)
	}
	// the change owns its value: the writer's entry can be modified
	p2 := mustPut(t, s, "app", "user/1", "bob", PutOptions{})
	p2.Value[0] = 'X'
	if c := recv(t, sub); string(c.Value) != "bob" || c.OldVersion != 1 || c.NewVersion != 2 || !c.Expires.IsZero() {
		t.Fatalf("overwrite change = %+v", c)
	}
	if err := s.Delete(context.Background(), "app", "user/1", nil); err != nil {
		t.Fatal(err)
	}
	if c := recv(t, sub); c.Op != OpDelete || c.Value != nil || c.OldVersion != 2 || c.NewVersion != 3 {
		t.Fatalf("delete change = %+v", c)
	}
	if _, _, err := s.Increment(context.Background(), "app", "user/n", 2); err != nil {
		t.Fatal(err)
	}
	if c := recv(t, sub); c.Op != OpPut || string(c.Value) != "2" || c.Key != "user/n" {
		t.Fatalf("increment change = %+v", c)
	}
	// failed writes publish nothing
	if _, err := s.Put(context.Background(), "app", "user/n", nil, PutOptions{IfVersion: ptr(9)}); err == nil {
		t.Fatal("CAS should fail")
	}
	// remote changes are flagged
	st := hlc.Timestamp{Wall: e.clock.Now().UnixMilli() + 5}
	apply(t, s, remotePut("app", "user/r", "remote", st, "node-b"), true)
	apply(t, s, remotePut("app", "user/r", "older", hlc.Timestamp{Wall: 1}, "node-b"), false) // lost: no change
	if c := recv(t, sub); !c.Remote || c.Key != "user/r" || c.Node != "node-b" || c.Stamp != st || string(c.Value) != "remote" {
		t.Fatalf("remote change = %+v", c)
	}
	// expiry
	mustPut(t, s, "app", "user/tmp", "x", PutOptions{TTL: time.Second})
	if c := recv(t, sub); c.Key != "user/tmp" {
		t.Fatalf("got %+v", c)
	}
	e.clock.Advance(time.Minute)
	if _, _, err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	if c := recv(t, sub); c.Op != OpExpire || c.Key != "user/tmp" || c.OldVersion != 1 || c.NewVersion != 1 {
		t.Fatalf("expire change = %+v", c)
	}
	none(t, sub)

	// the catch-all subscription saw everything, in commit order
	var keys []string
	for range 9 {
		c := recv(t, all)
		keys = append(keys, c.Namespace+"/"+c.Key+":"+c.Op.String())
	}
	want := "[app/user/1:put app/other:put elsewhere/user/1:put app/user/1:put app/user/1:delete app/user/n:put app/user/r:put app/user/tmp:put app/user/tmp:expire]"
	if got := sprint(keys); got != want {
		t.Fatalf("catch-all saw %s\nwant %s", got, want)
	}
	none(t, all)
}

func sprint(v []string) string {
	out := "["
	for i, s := range v {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out + "]"
}

func TestSubscribeDropsWhenFull(t *testing.T) {
	e := newEnv(t)
	s := e.s
	slow := s.Subscribe("app", "", 2)
	fast := s.Subscribe("app", "", 100)
	for i := range 10 {
		mustPut(t, s, "app", keyN(i), "v", PutOptions{}) // never blocks on slow
	}
	if d := slow.Dropped(); d != 8 {
		t.Fatalf("slow dropped %d, want 8", d)
	}
	if d := fast.Dropped(); d != 0 {
		t.Fatalf("fast dropped %d", d)
	}
	if c := recv(t, slow); c.Key != keyN(0) {
		t.Fatalf("slow got %+v first", c)
	}
	if c := recv(t, slow); c.Key != keyN(1) {
		t.Fatalf("slow got %+v second", c)
	}
	none(t, slow)
	for i := range 10 {
		if c := recv(t, fast); c.Key != keyN(i) {
			t.Fatalf("fast got %+v, want %s", c, keyN(i))
		}
	}
	slow.Close()
	slow.Close() // idempotent
	if _, ok := <-slow.C(); ok {
		t.Fatal("closed subscription delivered")
	}
	mustPut(t, s, "app", "after", "v", PutOptions{}) // no send on the closed channel
	if c := recv(t, fast); c.Key != "after" {
		t.Fatalf("got %+v", c)
	}
	if def := s.Subscribe("app", "", 0); cap(def.ch) != DefaultSubscriptionBuffer {
		t.Fatalf("default buffer = %d", cap(def.ch))
	}
}
