package kv

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// Run (bounded):
//
//	go test -run '^$' -bench . -benchtime 2000x ./internal/kv/

func BenchmarkGet(b *testing.B) {
	e := newEnv(b)
	val := bytes.Repeat([]byte{'v'}, 100)
	putMany(b, e.s, "bench", "key-%06d", 1000)
	if _, err := e.s.Put(context.Background(), "bench", "hot", val, PutOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.s.Get("bench", "hot"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.s.Get("bench", "hot"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkPut measures durable (fsynced) writes of 100-byte values by
// 1, 16 and 128 concurrent writers, with the store's group commit, with
// bbolt's DB.Batch (default 10ms delay, and tuned to 1ms) and with one
// DB.Update per write.
func BenchmarkPut(b *testing.B) {
	type variant struct {
		name  string
		mode  writeMode
		delay time.Duration
	}
	for _, v := range []variant{
		{"group", modeGroup, 0},
		{"batch", modeBatch, 0},
		{"batch-1ms", modeBatch, time.Millisecond},
		{"update", modeUpdate, 0},
	} {
		for _, writers := range []int{1, 16, 128} {
			b.Run(fmt.Sprintf("%s/writers=%d", v.name, writers), func(b *testing.B) {
				benchPut(b, v.mode, writers, v.delay)
			})
		}
	}
}

func benchPut(b *testing.B, mode writeMode, writers int, delay time.Duration) {
	e := newEnv(b, withMode(mode))
	if delay > 0 {
		e.db.MaxBatchDelay = delay
	}
	val := bytes.Repeat([]byte{'v'}, 100)
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%06d", i)
	}
	txid := func() (id int) {
		_ = e.db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	startTx := txid()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range writers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if _, err := e.s.Put(context.Background(), "bench", keys[i%int64(len(keys))], val, PutOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	// every write transaction advances the txid by one
	if commits := txid() - startTx; commits > 0 {
		b.ReportMetric(float64(b.N)/float64(commits), "writes/commit")
	}
}

// BenchmarkList lists a namespace of 10,000 keys with 100-byte values,
// page by page (1000 per page), once per iteration.
func BenchmarkList(b *testing.B) {
	e := newEnv(b)
	const n = 10000
	val := bytes.Repeat([]byte{'v'}, 100)
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < n; i += 32 {
				if _, err := e.s.Put(context.Background(), "bench", fmt.Sprintf("key-%06d", i), val, PutOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, keysOnly := range []bool{false, true} {
		b.Run(fmt.Sprintf("10000keys/keysOnly=%v", keysOnly), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				seen, cursor := 0, ""
				for {
					p, err := e.s.List("bench", ListOptions{Cursor: cursor, Limit: MaxListLimit, KeysOnly: keysOnly})
					if err != nil {
						b.Fatal(err)
					}
					seen += len(p.Entries)
					if cursor = p.NextCursor; cursor == "" {
						break
					}
				}
				if seen != n {
					b.Fatalf("listed %d keys, want %d", seen, n)
				}
			}
		})
	}
}
