package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wedge-run/wedge/model"
)

// ErrInvalidQueue reports a bad queue name; ErrMessageTooLarge a body
// over MaxMessageBytes.
var (
	ErrInvalidQueue    = errors.New("invalid queue name")
	ErrMessageTooLarge = errors.New("message too large")
	ErrNotFound        = errors.New("not found")
)

// MaxMessageBytes bounds a queue message.
const MaxMessageBytes = 1 << 20

// Publish stores a message durably for every consumer of queue (or, with
// none yet, until one is deployed) and returns its id.
func (m *Manager) Publish(queue string, body []byte) (string, error) {
	return m.PublishTraced("", queue, body)
}

// PublishTraced is Publish for a message sent under a traced span
// (traceparent): its deliveries continue that trace.
func (m *Manager) PublishTraced(traceparent, queue string, body []byte) (string, error) {
	if !model.ValidResourceName(queue) {
		return "", fmt.Errorf("%w %q: use 1-128 of [A-Za-z0-9._-]", ErrInvalidQueue, queue)
	}
	if len(body) > MaxMessageBytes {
		return "", fmt.Errorf("%w: %d bytes, the limit is %d", ErrMessageTooLarge, len(body), MaxMessageBytes)
	}
	body = append([]byte(nil), body...)
	var items []*Item
	if consumers := m.tab.Load().queue[queue]; len(consumers) > 0 {
		for _, c := range consumers {
			items = append(items, &Item{Function: c.fn, Trigger: c.idx, Kind: KindQueue, Source: "queue:" + queue, Queue: queue, Body: body, Trace: traceparent})
		}
	} else {
		items = append(items, &Item{Kind: KindQueue, Source: "queue:" + queue, Queue: queue, Body: body, Trace: traceparent})
	}
	// Batch: concurrent publishers share a commit (and its fsync); the
	// function may run twice if a batch is retried, which enqueue allows.
	err := m.db.Batch(func(tx *bolt.Tx) error { return m.enqueue(tx, items...) })
	if err != nil {
		return "", err
	}
	return items[0].ID(), nil
}

// DeadLetters lists dead items, optionally only those of one queue or
// function.
func (m *Manager) DeadLetters(queue, function string) ([]Item, error) {
	var out []Item
	err := m.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDead).ForEach(func(k, v []byte) error {
			var it Item
			if err := json.Unmarshal(v, &it); err != nil {
				return err
			}
			if (queue == "" || it.Queue == queue) && (function == "" || it.Function == function) {
				out = append(out, it)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, err
}

// Replay moves dead items back to the work log with a fresh attempt
// budget: one item (seq > 0) or all of a queue or function. It returns
// how many were replayed.
func (m *Manager) Replay(seq uint64, queue, function string) (int, error) {
	dead, err := m.DeadLetters(queue, function)
	if err != nil {
		return 0, err
	}
	var items []*Item
	for i := range dead {
		if seq != 0 && dead[i].Seq != seq {
			continue
		}
		it := dead[i]
		it.Attempts, it.LastError = 0, ""
		it.NextAt = m.opt.Now().UnixMilli()
		it.DeadAt = time.Time{}
		items = append(items, &it)
	}
	if len(items) == 0 {
		if seq != 0 {
			return 0, fmt.Errorf("dead letter %d: %w", seq, ErrNotFound)
		}
		return 0, nil
	}
	err = m.db.Update(func(tx *bolt.Tx) error {
		for _, it := range items {
			if err := tx.Bucket(bucketDead).Delete(seqKey(it.Seq)); err != nil {
				return err
			}
			if err := putItem(tx, bucketWork, it); err != nil {
				return err
			}
		}
		tx.OnCommit(func() { m.requeue(items, 0) })
		return nil
	})
	return len(items), err
}
