package kv

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestWriteGivesUpWhenItsContextEnds: a write queued behind a commit in
// progress returns ctx.Err() when its context ends, and is never
// applied, even after the writer moves on; a write whose context is
// done before it starts changes nothing either.
func TestWriteGivesUpWhenItsContextEnds(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var blocking bool
	e := newEnv(t, func(o *Options) {
		o.OnCommit = func(tx *bbolt.Tx, changes []Change) error {
			if blocking && changes[0].Key == "slow" {
				close(entered)
				<-release // the writer is busy with this group
			}
			return nil
		}
	})
	bg := context.Background()
	blocking = true
	slow := make(chan error, 1)
	go func() {
		_, err := e.s.Put(bg, "ns", "slow", []byte("1"), PutOptions{})
		slow <- err
	}()
	<-entered

	ctx, cancel := context.WithCancel(bg)
	queued := make(chan error, 1)
	go func() {
		_, err := e.s.Put(ctx, "ns", "queued", []byte("1"), PutOptions{})
		queued <- err
	}()
	// Wait until the write is in the queue (the writer cannot take it:
	// it is inside the slow commit), then end its context.
	deadline := time.Now().Add(10 * time.Second)
	for len(e.s.queue) == 0 {
		select {
		case err := <-queued:
			t.Fatalf("queued write returned %v before the writer was free", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the write never reached the group commit queue")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-queued:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("queued write whose context ended: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("a queued write kept waiting after its context ended")
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	blocking = false
	// The writer has drained the withdrawn write by now or will; a write
	// after it proves the queue moved past it.
	if _, err := e.s.Put(bg, "ns", "after", []byte("1"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Get("ns", "queued"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("withdrawn write was applied: %v", err)
	}

	if _, err := e.s.Put(ctx, "ns", "late", []byte("1"), PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a done context: %v, want context.Canceled", err)
	}
	if _, _, err := e.s.Increment(ctx, "ns", "n", 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Increment with a done context: %v, want context.Canceled", err)
	}
	if err := e.s.Delete(ctx, "ns", "after", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Delete with a done context: %v, want context.Canceled", err)
	}
	for _, k := range []string{"late", "n"} {
		if _, err := e.s.Get("ns", k); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s written by a cancelled write: %v", k, err)
		}
	}
	if _, err := e.s.Get("ns", "after"); err != nil {
		t.Fatalf("a cancelled delete removed the key: %v", err)
	}
}
