package events

import (
	"container/heap"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketWork  = []byte("events.work")
	bucketDead  = []byte("events.dead")
	bucketSched = []byte("events.sched")
)

// Item is one pending (or dead) delivery.
type Item struct {
	Seq       uint64          `json:"seq"`
	Function  string          `json:"function"` // "" for a queue message waiting for a consumer
	Trigger   int             `json:"trigger"`
	Kind      string          `json:"kind"`
	Source    string          `json:"source"`
	Queue     string          `json:"queue,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"` // kind-specific data (not for queue items)
	Body      []byte          `json:"body,omitempty"` // queue message body
	Attempts  int             `json:"attempts"`       // deliveries that failed so far
	NextAt    int64           `json:"next_at"`        // unix ms
	Created   time.Time       `json:"created"`
	LastError string          `json:"last_error,omitempty"`
	DeadAt    time.Time       `json:"dead_at,omitempty"`
	// Trace is the W3C traceparent of the span that caused the item (a
	// traced request's KV write or publish); its delivery is a child
	// span of it, across restarts and retries.
	Trace string `json:"trace,omitempty"`
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// ID is the item's event id.
func (it *Item) ID() string { return strconv.FormatUint(it.Seq, 10) }

func (it *Item) key() string { return it.Function + "#" + strconv.Itoa(it.Trigger) }

// put stores it under a new sequence number in bucket b (work or dead).
func putNew(tx *bolt.Tx, name []byte, it *Item) error {
	b := tx.Bucket(name)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	// Sequences are shared by work and dead so that an item keeps its id.
	if it.Seq == 0 {
		it.Seq = seq
	}
	return putItem(tx, name, it)
}

func putItem(tx *bolt.Tx, name []byte, it *Item) error {
	v, err := json.Marshal(it)
	if err != nil {
		return err
	}
	return tx.Bucket(name).Put(seqKey(it.Seq), v)
}

func initBuckets(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		for _, n := range [][]byte{bucketWork, bucketDead, bucketSched, bucketObjMeta, bucketObjData} {
			if _, err := tx.CreateBucketIfNotExists(n); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadWork reads every pending item.
func loadWork(db *bolt.DB) ([]*Item, error) {
	var out []*Item
	err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketWork).ForEach(func(k, v []byte) error {
			it := new(Item)
			if err := json.Unmarshal(v, it); err != nil {
				return fmt.Errorf("events: work item %x: %w", k, err)
			}
			out = append(out, it)
			return nil
		})
	})
	return out, err
}

// itemHeap orders items by due time, then sequence.
type itemHeap []*Item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if h[i].NextAt != h[j].NextAt {
		return h[i].NextAt < h[j].NextAt
	}
	return h[i].Seq < h[j].Seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(*Item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

var _ heap.Interface = (*itemHeap)(nil)
