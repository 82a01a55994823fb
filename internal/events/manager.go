package events

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wedge-run/wedge/internal/tracing"
	bolt "go.etcd.io/bbolt"
)

// ErrBusy is returned (wrapped) by an Invoker that could not start the
// function because the node is saturated: the delivery is retried soon
// and does not count as an attempt.
var ErrBusy = errors.New("node busy")

// Invoker runs a function's event entry with an encoded Envelope. ctx
// ends when the manager closes: an invocation still waiting for a slot
// then gives up (and returns ErrBusy: the delivery stays in the log).
// carries the remote trace parent of the item that caused the event
// (tracing.WithParent), if it was traced.
type Invoker interface {
	InvokeEvent(ctx context.Context, function string, event []byte) error
}

// Options configure a Manager.
type Options struct {
	DB      *bolt.DB
	Invoker Invoker
	// ObjectsDir holds uploaded objects larger than InlineLimit.
	ObjectsDir string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// BackoffBase and BackoffMax shape retries: base * 2^(attempt-1),
	// capped, with up to 20% jitter. Defaults 1s and 5m.
	BackoffBase, BackoffMax time.Duration
	// IsOwner decides whether this node fires a schedule tick (key is
	// "function#trigger@unixms"); nil means always (a single node).
	IsOwner func(key string) bool
	Log     *slog.Logger
}

// Manager runs triggers and deliveries for one node.
type Manager struct {
	opt  Options
	db   *bolt.DB
	inv  Invoker
	log  *slog.Logger
	tab  atomic.Pointer[table]
	wake chan struct{}
	stop chan struct{}
	ctx  context.Context // cancelled by Close, for the invocations in flight
	halt context.CancelFunc
	wg   sync.WaitGroup

	mu      sync.Mutex
	queue   itemHeap
	blocked []*Item        // due, but their trigger is at its concurrency cap
	running map[string]int // function#trigger -> deliveries in flight

	schedWake chan struct{}
	ownerMu   sync.Mutex
	ready     chan struct{} // closed by the first SetFunctions
	readyOnce sync.Once
	lastTick  map[string]int64 // function#trigger -> last tick fired (unix ms)

	stats struct {
		delivered, failed, retried, dead, missedTicks atomic.Int64
	}
}

// Open creates the manager's buckets, loads the pending work and starts
// delivering. Call SetFunctions to tell it which triggers exist.
func Open(opt Options) (*Manager, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.BackoffBase <= 0 {
		opt.BackoffBase = time.Second
	}
	if opt.BackoffMax <= 0 {
		opt.BackoffMax = 5 * time.Minute
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if err := initBuckets(opt.DB); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	m := &Manager{opt: opt, db: opt.DB, inv: opt.Invoker, log: opt.Log,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), schedWake: make(chan struct{}, 1),
		running: map[string]int{}, lastTick: map[string]int64{}, ready: make(chan struct{})}
	m.ctx, m.halt = context.WithCancel(context.Background())
	m.tab.Store(buildTable(nil))
	items, err := loadWork(opt.DB)
	if err != nil {
		return nil, err
	}
	now := opt.Now().UnixMilli()
	for _, it := range items {
		if it.NextAt > now+int64(opt.BackoffMax/time.Millisecond) {
			it.NextAt = now // a clock that jumped back must not strand work
		}
		m.queue = append(m.queue, it)
	}
	heap.Init(&m.queue)
	if err := m.loadTicks(); err != nil {
		return nil, err
	}
	m.wg.Add(2)
	go m.dispatch()
	go m.schedule()
	return m, nil
}

// SetOwner sets how schedule ticks are shared in a cluster: a tick fires
// only on the node for which owner(key) is true.
func (m *Manager) SetOwner(owner func(key string) bool) {
	m.ownerMu.Lock()
	m.opt.IsOwner = owner
	m.ownerMu.Unlock()
}

func (m *Manager) isOwner(key string) bool {
	m.ownerMu.Lock()
	f := m.opt.IsOwner
	m.ownerMu.Unlock()
	return f == nil || f(key)
}

// Close stops delivering; pending work stays in the log.
func (m *Manager) Close() {
	select {
	case <-m.stop:
		return
	default:
	}
	close(m.stop)
	m.halt()
	m.wg.Wait()
}

// SetFunctions replaces the trigger table.
//
// Nothing is delivered before the first call: work left from before a
// restart waits until the node knows its functions again.
func (m *Manager) SetFunctions(fns []FunctionTriggers) {
	m.tab.Store(buildTable(fns))
	m.readyOnce.Do(func() { close(m.ready) })
	m.poke()
	select {
	case m.schedWake <- struct{}{}:
	default:
	}
}

func (m *Manager) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// enqueue adds items to the log inside tx and schedules them once tx
// commits.
func (m *Manager) enqueue(tx *bolt.Tx, items ...*Item) error {
	for _, it := range items {
		if it.NextAt == 0 {
			it.NextAt = m.opt.Now().UnixMilli()
		}
		if it.Created.IsZero() {
			it.Created = m.opt.Now().UTC()
		}
		if err := putNew(tx, bucketWork, it); err != nil {
			return err
		}
	}
	tx.OnCommit(func() {
		m.mu.Lock()
		for _, it := range items {
			heap.Push(&m.queue, it)
		}
		m.mu.Unlock()
		m.poke()
	})
	return nil
}

// dispatch starts due deliveries, respecting per-trigger caps.
func (m *Manager) dispatch() {
	defer m.wg.Done()
	select {
	case <-m.ready:
	case <-m.stop:
		return
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		batches, next := m.due()
		for _, b := range batches {
			m.wg.Add(1)
			go m.deliver(b)
		}
		wait := time.Hour
		if next > 0 {
			wait = max(time.Until(time.UnixMilli(next)), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-m.stop:
			return
		case <-m.wake:
		case <-timer.C:
		}
	}
}

// due pops the deliveries to start now and returns the time of the next
// one (unix ms, 0 if none).
func (m *Manager) due() ([][]*Item, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tab := m.tab.Load()
	now := m.opt.Now().UnixMilli()
	var batches [][]*Item
	var putBack []*Item
	for m.queue.Len() > 0 && m.queue[0].NextAt <= now {
		it := heap.Pop(&m.queue).(*Item)
		if it.Function == "" { // a queue message waiting for a consumer
			if consumers := tab.queue[it.Queue]; len(consumers) > 0 {
				m.wg.Add(1)
				go m.fanOut(it, consumers)
			} else {
				it.NextAt = now + 1000
				putBack = append(putBack, it)
			}
			continue
		}
		tr, ok := tab.trigger(it.Function, it.Trigger)
		if !ok || tr.Kind != it.Kind {
			m.wg.Add(1)
			go func() { defer m.wg.Done(); m.kill([]*Item{it}, "the function or its trigger no longer exists") }()
			continue
		}
		key := it.key()
		if tr.Concurrency > 0 && m.running[key] >= tr.Concurrency {
			m.blocked = append(m.blocked, it)
			continue
		}
		batch := []*Item{it}
		for bs := tr.Batch(); len(batch) < bs && m.queue.Len() > 0 && m.queue[0].NextAt <= now; {
			x := heap.Pop(&m.queue).(*Item)
			if x.key() == key {
				batch = append(batch, x)
			} else {
				putBack = append(putBack, x)
			}
		}
		m.running[key]++
		batches = append(batches, batch)
	}
	for _, it := range putBack {
		heap.Push(&m.queue, it)
	}
	var next int64
	if m.queue.Len() > 0 {
		next = m.queue[0].NextAt
	}
	return batches, next
}

// fanOut turns a consumer-less queue message into one item per consumer.
func (m *Manager) fanOut(it *Item, consumers []ref) {
	defer m.wg.Done()
	err := m.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketWork).Delete(seqKey(it.Seq)); err != nil {
			return err
		}
		var items []*Item
		for _, c := range consumers {
			items = append(items, &Item{Function: c.fn, Trigger: c.idx, Kind: KindQueue, Source: it.Source, Queue: it.Queue, Body: it.Body, Created: it.Created, Trace: it.Trace})
		}
		return m.enqueue(tx, items...)
	})
	if err != nil {
		m.log.Error("events: fanning out a queue message", "queue", it.Queue, "err", err)
		m.requeue([]*Item{it}, time.Second)
	}
}

// envelope builds what the function receives for a batch.
func (m *Manager) envelope(batch []*Item) ([]byte, error) {
	first := batch[0]
	env := Envelope{Kind: first.Kind, Source: first.Source, ID: first.ID(), Time: first.Created,
		Function: first.Function, Trigger: first.Trigger, Attempt: first.Attempts + 1, TraceParent: first.Trace, Data: first.Data}
	if first.Kind == KindQueue {
		qd := QueueData{Queue: first.Queue}
		for _, it := range batch {
			qd.Messages = append(qd.Messages, Message{ID: it.ID(), Body: it.Body, Attempts: it.Attempts, Published: it.Created})
		}
		b, err := json.Marshal(qd)
		if err != nil {
			return nil, err
		}
		env.Data = b
	}
	return json.Marshal(env)
}

// deliver runs one batch and records the outcome.
func (m *Manager) deliver(batch []*Item) {
	defer m.wg.Done()
	key := batch[0].key()
	defer func() {
		m.mu.Lock()
		m.running[key]--
		for _, it := range m.blocked {
			heap.Push(&m.queue, it)
		}
		m.blocked = m.blocked[:0]
		m.mu.Unlock()
		m.poke()
	}()
	ev, err := m.envelope(batch)
	if err == nil {
		err = m.inv.InvokeEvent(tracing.WithParent(m.ctx, batch[0].Trace), batch[0].Function, ev)
	}
	switch {
	case err == nil:
		m.stats.delivered.Add(int64(len(batch)))
		if derr := m.db.Batch(func(tx *bolt.Tx) error {
			for _, it := range batch {
				if err := tx.Bucket(bucketWork).Delete(seqKey(it.Seq)); err != nil {
					return err
				}
			}
			return nil
		}); derr != nil {
			m.log.Error("events: removing delivered work (it will run again)", "err", derr)
		}
	case errors.Is(err, ErrBusy):
		m.requeue(batch, 100*time.Millisecond)
	default:
		m.stats.failed.Add(int64(len(batch)))
		tr, _ := m.tab.Load().trigger(batch[0].Function, batch[0].Trigger)
		var retry, dead []*Item
		for _, it := range batch {
			it.Attempts++
			it.LastError = truncate(err.Error(), 1024)
			if it.Attempts >= tr.Attempts() {
				dead = append(dead, it)
			} else {
				retry = append(retry, it)
			}
		}
		if len(dead) > 0 {
			m.kill(dead, "")
		}
		if len(retry) > 0 {
			m.stats.retried.Add(int64(len(retry)))
			delay := m.backoff(retry[0].Attempts)
			for _, it := range retry {
				it.NextAt = m.opt.Now().Add(delay).UnixMilli()
			}
			if uerr := m.db.Update(func(tx *bolt.Tx) error {
				for _, it := range retry {
					if err := putItem(tx, bucketWork, it); err != nil {
						return err
					}
				}
				return nil
			}); uerr != nil {
				m.log.Error("events: recording a failed attempt", "err", uerr)
			}
			m.requeue(retry, 0)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// backoff is base * 2^(attempt-1), capped, with jitter.
func (m *Manager) backoff(attempt int) time.Duration {
	d := m.opt.BackoffBase << min(attempt-1, 20)
	if d > m.opt.BackoffMax || d <= 0 {
		d = m.opt.BackoffMax
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// requeue puts items back in memory, due after delay (0: keep NextAt).
func (m *Manager) requeue(items []*Item, delay time.Duration) {
	m.mu.Lock()
	for _, it := range items {
		if delay > 0 {
			it.NextAt = m.opt.Now().Add(delay).UnixMilli()
		}
		heap.Push(&m.queue, it)
	}
	m.mu.Unlock()
	m.poke()
}

// kill moves items to the dead-letter list.
func (m *Manager) kill(items []*Item, reason string) {
	now := m.opt.Now().UTC()
	err := m.db.Update(func(tx *bolt.Tx) error {
		for _, it := range items {
			if reason != "" {
				it.LastError = reason
			}
			it.DeadAt = now
			if err := tx.Bucket(bucketWork).Delete(seqKey(it.Seq)); err != nil {
				return err
			}
			if err := putItem(tx, bucketDead, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		m.log.Error("events: dead-lettering", "err", err)
		return
	}
	m.stats.dead.Add(int64(len(items)))
	for _, it := range items {
		m.log.Warn("events: delivery dead-lettered", "function", it.Function, "kind", it.Kind, "id", it.ID(), "attempts", it.Attempts, "err", it.LastError)
	}
}

// Stats are the manager's counters.
type Stats struct {
	Pending     int   `json:"pending"`
	Running     int   `json:"running"`
	Delivered   int64 `json:"delivered"`
	Failed      int64 `json:"failed_attempts"`
	Retried     int64 `json:"retried"`
	Dead        int64 `json:"dead_lettered"`
	MissedTicks int64 `json:"missed_ticks"`
}

// Stats returns a snapshot.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	st := Stats{Pending: m.queue.Len() + len(m.blocked)}
	for _, n := range m.running {
		st.Running += n
	}
	m.mu.Unlock()
	st.Delivered = m.stats.delivered.Load()
	st.Failed = m.stats.failed.Load()
	st.Retried = m.stats.retried.Load()
	st.Dead = m.stats.dead.Load()
	st.MissedTicks = m.stats.missedTicks.Load()
	return st
}
