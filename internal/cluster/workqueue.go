package cluster

import (
	"sync"
	"sync/atomic"
)

// keyedQueue is a work queue that coalesces by key: it holds at most one
// pending item per key (keep decides whether a new item replaces the
// pending one) and hands a key to at most one worker at a time, so work
// on one function or one KV key is serialized while different keys
// proceed in parallel. It is bounded: past max pending keys, new keys
// are dropped and counted (anti-entropy repairs what they carried).
type keyedQueue[T any] struct {
	max  int
	keep func(old, new T) bool

	mu      sync.Mutex
	pending map[string]T
	order   []string // keys pending and not busy, FIFO
	busy    map[string]bool
	wake    chan struct{}
	dropped atomic.Uint64
}

func newKeyedQueue[T any](max int, keep func(old, new T) bool) *keyedQueue[T] {
	return &keyedQueue[T]{max: max, keep: keep, pending: make(map[string]T), busy: make(map[string]bool), wake: make(chan struct{}, 1)}
}

// put adds work for key; it reports false if the queue was full.
func (q *keyedQueue[T]) put(key string, v T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if old, ok := q.pending[key]; ok {
		if q.keep(old, v) {
			q.pending[key] = v
		}
		return true
	}
	if len(q.pending) >= q.max {
		q.dropped.Add(1)
		return false
	}
	q.pending[key] = v
	if !q.busy[key] {
		q.order = append(q.order, key)
		q.signal()
	}
	return true
}

func (q *keyedQueue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take returns the next key and its work, marking the key busy.
func (q *keyedQueue[T]) take() (string, T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var zero T
	if len(q.order) == 0 {
		return "", zero, false
	}
	k := q.order[0]
	q.order[0] = ""
	q.order = q.order[1:]
	v := q.pending[k]
	delete(q.pending, k)
	q.busy[k] = true
	if len(q.order) > 0 {
		q.signal() // another worker may take the rest
	}
	return k, v, true
}

// done releases key; work that arrived for it meanwhile is queued.
func (q *keyedQueue[T]) done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.busy, key)
	if _, ok := q.pending[key]; ok {
		q.order = append(q.order, key)
		q.signal()
	}
}

// len returns the number of keys with pending work.
func (q *keyedQueue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

// run processes work with fn until stop is closed.
func (q *keyedQueue[T]) run(stop <-chan struct{}, fn func(key string, v T)) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		k, v, ok := q.take()
		if !ok {
			select {
			case <-q.wake:
				continue
			case <-stop:
				return
			}
		}
		fn(k, v)
		q.done(k)
	}
}
