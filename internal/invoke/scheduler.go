package invoke

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Scheduler decides which invocations run now, which wait, and which are
// refused. It enforces:
//
//   - a node-wide limit on invocations in flight (fixed, or adjusted by an
//     adaptive controller, see adaptive.go);
//   - a node-wide memory budget: an invocation reserves its function's
//     memory limit while it runs, and the reservations never exceed the
//     budget;
//   - fair shares (admission.go): every function may run one invocation
//     whenever a slot and its memory are free, but beyond that a function
//     gets an equal share of what functions with light demand leave, and
//     never the last quarter of the slots or of the memory budget, which
//     stay for functions that are not saturated. One function, or a few,
//     flooding the node with requests that never end cannot take it all;
//   - a queue per function and for the node, served round-robin across
//     functions (fair queuing), bounded by waiting time: a request that
//     would wait longer than QueueWait by the current service times
//     (queuewait.go) is shed at once (503), and one still waiting at
//     QueueWait is shed then. A count bound (QueueLen, split among the
//     busy functions) only caps memory.
//
// All state is behind one mutex; the fast path (a free slot, nobody
// waiting) takes it once on admission and once on release.
type Scheduler struct {
	mu       sync.Mutex
	limit    int
	inflight int
	queued   int
	queueMax int
	wait     time.Duration
	fnShare  float64
	fns      map[string]*fnSched
	ready    []*fnSched // functions with waiters, in round-robin order
	cursor   int

	// Demand, kept up to date by account/unaccount (admission.go).
	busy       int // functions with more than one invocation in flight, or waiting
	lightSlots int // slots held by the others (one each)

	memBudget int64 // 0: no budget
	memUsed   int64

	maxSeen    int   // highest in-flight ever observed (tests assert it never exceeds the limit)
	memMaxSeen int64 // highest memory ever reserved (never above the budget)
	shed       atomic.Int64
	admitted   atomic.Int64

	adaptive *Adaptive
}

type fnSched struct {
	name     string
	inflight int
	max      int     // the function's own concurrency cap; 0: none
	mem      int64   // memory one invocation reserves
	svc      float64 // EWMA of its invocation durations, ns
	waiters  []*waiter
	inReady  bool
	shed     int64
	admitted int64
}

type waiter struct {
	ch      chan struct{}
	granted bool
	mem     int64 // what the grant reserved
}

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	// Limit is the node-wide number of invocations in flight (the initial
	// value in adaptive mode).
	Limit int
	// QueueLen caps the number of requests waiting across the node (a
	// memory bound; waiting time is what sheds).
	QueueLen int
	// QueueWait bounds how long a request may wait: one that would wait
	// longer is shed on arrival.
	QueueWait time.Duration
	// FunctionShare is the fraction of Limit (and of MemoryBudget) that
	// one function may hold alone; the rest is kept for other functions.
	// Default 0.75.
	FunctionShare float64
	// MemoryBudget bounds the sum of the memory limits of the invocations
	// in flight, in bytes. 0: no budget.
	MemoryBudget int64
	// Adaptive, if set, adjusts the limit from observed latency.
	Adaptive *Adaptive
}

// Demand is what one invocation asks of the node.
type Demand struct {
	// MaxConcurrency is the function's own cap on invocations in flight
	// (0: none beyond its share). It can only lower the share.
	MaxConcurrency int
	// MemoryBytes is the function's memory limit, reserved from the
	// node's budget while the invocation runs.
	MemoryBytes int64
}

// Reasons acquire refuses an invocation; each maps to 503 with
// Retry-After.
var (
	// ErrSaturated: every slot the function may use is busy, and the wait
	// or the queue ran out.
	ErrSaturated = errors.New("the node is at its concurrency limit")
	// ErrMemoryBudget: the memory the function may reserve is in use, and
	// the wait or the queue ran out.
	ErrMemoryBudget = errors.New("the node's memory budget is in use")
	// ErrOverBudget: the function's memory limit is larger than the whole
	// budget; it cannot run on this node.
	ErrOverBudget = errors.New("the function's memory limit is larger than the node's memory budget")
)

// NewScheduler returns a scheduler.
func NewScheduler(cfg SchedulerConfig) *Scheduler {
	if cfg.Limit <= 0 {
		cfg.Limit = 1
	}
	if cfg.QueueLen < 0 {
		cfg.QueueLen = 0
	}
	if cfg.FunctionShare <= 0 || cfg.FunctionShare > 1 {
		cfg.FunctionShare = 0.75
	}
	s := &Scheduler{limit: cfg.Limit, queueMax: cfg.QueueLen, wait: cfg.QueueWait, fnShare: cfg.FunctionShare,
		fns: map[string]*fnSched{}, adaptive: cfg.Adaptive, memBudget: max(0, cfg.MemoryBudget)}
	if s.adaptive != nil {
		s.adaptive.init(cfg.Limit)
	}
	return s
}

// Ticket is an admitted invocation; call Done when it ends.
type Ticket struct {
	s     *Scheduler
	fn    *fnSched
	mem   int64
	start time.Time
}

// acquire admits an invocation of function fn. It returns ErrSaturated,
// ErrMemoryBudget or ErrOverBudget when the request must be shed.
func (s *Scheduler) acquire(fn string, d Demand) (Ticket, error) {
	s.mu.Lock()
	f := s.fns[fn]
	if f == nil {
		f = &fnSched{name: fn}
		s.fns[fn] = f
	}
	f.max = max(0, d.MaxConcurrency)
	f.mem = max(0, d.MemoryBytes)
	if s.memBudget > 0 && f.mem > s.memBudget {
		s.shedLocked(f)
		s.mu.Unlock()
		return Ticket{}, ErrOverBudget
	}
	if len(f.waiters) == 0 && s.canAdmit(f) {
		mem := s.admit(f)
		s.mu.Unlock()
		return Ticket{s: s, fn: f, mem: mem, start: time.Now()}, nil
	}
	why := s.blocked(f)
	if s.queued >= s.queueMax || len(f.waiters) >= s.queueShare(f) || s.wait <= 0 || s.expectedWait(f) > s.wait {
		s.shedLocked(f)
		s.mu.Unlock()
		return Ticket{}, why
	}
	w := &waiter{ch: make(chan struct{})}
	s.unaccount(f)
	f.waiters = append(f.waiters, w)
	s.account(f)
	s.queued++
	if !f.inReady {
		f.inReady = true
		s.ready = append(s.ready, f)
	}
	s.mu.Unlock()

	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case <-w.ch:
		return Ticket{s: s, fn: f, mem: w.mem, start: time.Now()}, nil
	case <-t.C:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.granted { // granted while the timer fired
		return Ticket{s: s, fn: f, mem: w.mem, start: time.Now()}, nil
	}
	s.unaccount(f)
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			break
		}
	}
	s.account(f)
	s.queued--
	s.shedLocked(f)
	why = s.blocked(f)
	// One waiter fewer may raise the others' shares.
	s.dispatch()
	return Ticket{}, why
}

func (s *Scheduler) shedLocked(f *fnSched) {
	f.shed++
	s.shed.Add(1)
}

// admit takes a slot and f's memory and returns the memory reserved.
// Caller holds mu.
func (s *Scheduler) admit(f *fnSched) int64 {
	s.unaccount(f)
	s.inflight++
	f.inflight++
	s.account(f)
	f.admitted++
	s.admitted.Add(1)
	s.memUsed += f.mem
	s.maxSeen = max(s.maxSeen, s.inflight)
	s.memMaxSeen = max(s.memMaxSeen, s.memUsed)
	return f.mem
}

// Done releases the slot and the memory and hands them to the next
// waiters, round-robin across functions.
func (t Ticket) Done() {
	s := t.s
	if s == nil {
		return
	}
	elapsed := time.Since(t.start)
	s.mu.Lock()
	s.unaccount(t.fn)
	s.inflight--
	t.fn.inflight--
	s.account(t.fn)
	s.memUsed -= t.mem
	s.observe(t.fn, elapsed)
	if s.adaptive != nil {
		if nl := s.adaptive.observe(t.fn.name, elapsed, s.limit, s.queued); nl != s.limit {
			s.limit = nl
		}
	}
	s.dispatch()
	s.mu.Unlock()
}

// dispatch grants waiting requests while some can be admitted, taking
// functions in round-robin order and skipping those that may not take
// more now. Caller holds mu.
func (s *Scheduler) dispatch() {
	for s.inflight < s.limit && len(s.ready) > 0 {
		granted := false
		for n := 0; n < len(s.ready); n++ {
			if s.cursor >= len(s.ready) {
				s.cursor = 0
			}
			f := s.ready[s.cursor]
			if len(f.waiters) == 0 {
				f.inReady = false
				s.ready = append(s.ready[:s.cursor], s.ready[s.cursor+1:]...)
				n--
				if len(s.ready) == 0 {
					return
				}
				continue
			}
			if !s.canAdmit(f) {
				s.cursor++
				continue
			}
			s.unaccount(f)
			w := f.waiters[0]
			f.waiters = f.waiters[1:]
			s.account(f)
			s.queued--
			w.granted = true
			w.mem = s.admit(f)
			close(w.ch)
			s.cursor++
			granted = true
			break
		}
		if !granted {
			return
		}
	}
}

// SchedulerStats is a snapshot of the scheduler's state.
type SchedulerStats struct {
	Limit, InFlight, Queued, MaxSeen int
	Shed, Admitted                   int64
	// MemoryBudget (0: none), MemoryReserved and MemoryMaxSeen are bytes.
	MemoryBudget, MemoryReserved, MemoryMaxSeen int64
	Functions                                   map[string]FunctionSchedStats
}

// FunctionSchedStats is one function's part of SchedulerStats.
type FunctionSchedStats struct {
	InFlight int   `json:"inflight"`
	Queued   int   `json:"queued"`
	Cap      int   `json:"cap"` // what it may hold now: its share, or its own cap if lower
	Shed     int64 `json:"shed"`
	Admitted int64 `json:"admitted"`
}

// Stats returns a snapshot.
func (s *Scheduler) Stats() SchedulerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SchedulerStats{Limit: s.limit, InFlight: s.inflight, Queued: s.queued, MaxSeen: s.maxSeen,
		Shed: s.shed.Load(), Admitted: s.admitted.Load(),
		MemoryBudget: s.memBudget, MemoryReserved: s.memUsed, MemoryMaxSeen: s.memMaxSeen,
		Functions: map[string]FunctionSchedStats{}}
	for n, f := range s.fns {
		st.Functions[n] = FunctionSchedStats{InFlight: f.inflight, Queued: len(f.waiters), Cap: s.capOf(f),
			Shed: f.shed, Admitted: f.admitted}
	}
	return st
}

// Limit is the current node-wide limit.
func (s *Scheduler) Limit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limit
}

// Forget drops a deleted function's state once it has nothing in flight.
func (s *Scheduler) Forget(fn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.fns[fn]; f != nil && f.inflight == 0 && len(f.waiters) == 0 {
		delete(s.fns, fn)
	}
}

// LimitHistory returns the adaptive limit's recent changes (nil when the
// limit is fixed).
func (s *Scheduler) LimitHistory() []LimitSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.adaptive == nil {
		return nil
	}
	return append([]LimitSample(nil), s.adaptive.history...)
}

// MemoryBudget is the node's memory budget in bytes (0: none).
func (s *Scheduler) MemoryBudget() int64 { return s.memBudget }

// Adaptive reports whether the limit moves with observed latency.
func (s *Scheduler) Adaptive() bool { return s.adaptive != nil }
