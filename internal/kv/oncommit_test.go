package kv

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/bbolt"
)

func TestOnCommitRunsInTheWriteTransaction(t *testing.T) {
	var fail bool
	e := newEnv(t, func(o *Options) {
		o.OnCommit = func(tx *bbolt.Tx, changes []Change) error {
			if fail {
				return errors.New("hook refuses")
			}
			b, err := tx.CreateBucketIfNotExists([]byte("hook"))
			if err != nil {
				return err
			}
			for _, c := range changes {
				if err := b.Put([]byte(c.Namespace+"/"+c.Key), []byte(c.Op.String())); err != nil {
					return err
				}
			}
			return nil
		}
	})
	if _, err := e.s.Put(context.Background(), "ns", "a", []byte("1"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Delete(context.Background(), "ns", "b", nil); err != nil {
		t.Fatal(err)
	}
	e.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("hook"))
		if b == nil || string(b.Get([]byte("ns/a"))) != "put" || string(b.Get([]byte("ns/b"))) != "delete" {
			t.Fatal("hook did not record the changes in the transaction")
		}
		return nil
	})
	// A failing hook fails the write: nothing is stored.
	fail = true
	if _, err := e.s.Put(context.Background(), "ns", "c", []byte("1"), PutOptions{}); err == nil {
		t.Fatal("write succeeded though its hook failed")
	}
	if _, err := e.s.Get("ns", "c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("write stored though its hook failed: %v", err)
	}
	fail = false
}
