package gateway

import (
	"sync"
	"sync/atomic"
	"time"
)

// Scheduler decides which invocations run now, which wait, and which are
// refused. It enforces:
//
//   - a node-wide limit on invocations in flight (fixed, or adjusted by an
//     adaptive controller, see adaptive.go);
//   - a per-function limit, so that one function can hold at most its share
//     of the node (by default three quarters of the limit) and a flood of
//     slow requests cannot starve the others;
//   - a short bounded queue per function and for the node, served
//     round-robin across functions (fair queuing), with a deadline: past
//     it, or when the queue is full, a request is shed at once (503).
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

	maxSeen  int // highest in-flight ever observed (tests assert it never exceeds the limit)
	shed     atomic.Int64
	admitted atomic.Int64

	adaptive *Adaptive
}

type fnSched struct {
	name     string
	inflight int
	max      int
	waiters  []*waiter
	inReady  bool
	shed     int64
	admitted int64
}

type waiter struct {
	ch      chan struct{}
	granted bool
}

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	// Limit is the node-wide number of invocations in flight (the initial
	// value in adaptive mode).
	Limit int
	// QueueLen bounds requests waiting for a slot across the node.
	QueueLen int
	// QueueWait bounds how long a request may wait.
	QueueWait time.Duration
	// FunctionShare is the fraction of Limit one function may hold when it
	// sets no limit of its own. Default 0.75.
	FunctionShare float64
	// Adaptive, if set, adjusts the limit from observed latency.
	Adaptive *Adaptive
}

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
		fns: map[string]*fnSched{}, adaptive: cfg.Adaptive}
	if s.adaptive != nil {
		s.adaptive.init(cfg.Limit)
	}
	return s
}

// Ticket is an admitted invocation; call Done when it ends.
type Ticket struct {
	s     *Scheduler
	fn    *fnSched
	start time.Time
}

// Acquire admits an invocation of function fn, whose own concurrency cap
// is fnMax (0: its share of the node). It returns false when the request
// must be shed.
func (s *Scheduler) Acquire(fn string, fnMax int) (Ticket, bool) {
	s.mu.Lock()
	f := s.fns[fn]
	if f == nil {
		f = &fnSched{name: fn}
		s.fns[fn] = f
	}
	f.max = s.capFor(fnMax)
	if s.inflight < s.limit && f.inflight < f.max && len(f.waiters) == 0 {
		s.admit(f)
		s.mu.Unlock()
		return Ticket{s: s, fn: f, start: time.Now()}, true
	}
	// Queue, within the node's bound and half of it per function (so one
	// function's flood leaves room for the others' waiters).
	perFn := max(1, s.queueMax/2)
	if s.queued >= s.queueMax || len(f.waiters) >= perFn || s.wait <= 0 {
		f.shed++
		s.shed.Add(1)
		s.mu.Unlock()
		return Ticket{}, false
	}
	w := &waiter{ch: make(chan struct{})}
	f.waiters = append(f.waiters, w)
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
		return Ticket{s: s, fn: f, start: time.Now()}, true
	case <-t.C:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.granted { // granted while the timer fired
		return Ticket{s: s, fn: f, start: time.Now()}, true
	}
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			break
		}
	}
	s.queued--
	f.shed++
	s.shed.Add(1)
	return Ticket{}, false
}

// capFor is a function's effective concurrency cap.
func (s *Scheduler) capFor(fnMax int) int {
	share := max(1, int(float64(s.limit)*s.fnShare))
	if fnMax > 0 && fnMax < share {
		return fnMax
	}
	if fnMax > 0 && fnMax <= s.limit {
		return fnMax
	}
	return share
}

func (s *Scheduler) admit(f *fnSched) {
	s.inflight++
	f.inflight++
	f.admitted++
	s.admitted.Add(1)
	if s.inflight > s.maxSeen {
		s.maxSeen = s.inflight
	}
}

// Done releases the slot and hands it to the next waiter, round-robin
// across functions.
func (t Ticket) Done() {
	s := t.s
	if s == nil {
		return
	}
	elapsed := time.Since(t.start)
	s.mu.Lock()
	s.inflight--
	t.fn.inflight--
	if s.adaptive != nil {
		if nl := s.adaptive.observe(t.fn.name, elapsed, s.limit, s.queued); nl != s.limit {
			s.limit = nl
		}
	}
	s.dispatch()
	s.mu.Unlock()
}

// dispatch grants waiting requests while slots are free. Caller holds mu.
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
			if f.inflight >= f.max {
				s.cursor++
				continue
			}
			w := f.waiters[0]
			f.waiters = f.waiters[1:]
			s.queued--
			w.granted = true
			s.admit(f)
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
	Functions                        map[string]FunctionSchedStats
}

// FunctionSchedStats is one function's part of SchedulerStats.
type FunctionSchedStats struct {
	InFlight int   `json:"inflight"`
	Queued   int   `json:"queued"`
	Cap      int   `json:"cap"`
	Shed     int64 `json:"shed"`
	Admitted int64 `json:"admitted"`
}

// Stats returns a snapshot.
func (s *Scheduler) Stats() SchedulerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SchedulerStats{Limit: s.limit, InFlight: s.inflight, Queued: s.queued, MaxSeen: s.maxSeen,
		Shed: s.shed.Load(), Admitted: s.admitted.Load(), Functions: map[string]FunctionSchedStats{}}
	for n, f := range s.fns {
		st.Functions[n] = FunctionSchedStats{InFlight: f.inflight, Queued: len(f.waiters), Cap: f.max, Shed: f.shed, Admitted: f.admitted}
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
