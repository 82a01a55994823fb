package gateway

import (
	"sync/atomic"
	"time"
)

// Limiter bounds how many invocations run at once on the node. Beyond the
// limit, up to QueueLen requests wait at most QueueWait for a slot; the
// rest are refused at once, so overload produces fast 503s instead of a
// growing backlog.
type Limiter struct {
	slots    chan struct{}
	queueLen int64
	wait     time.Duration

	queued   atomic.Int64
	inflight atomic.Int64
	shed     atomic.Int64
	admitted atomic.Int64
}

// NewLimiter returns a limiter with max concurrent slots.
func NewLimiter(max, queueLen int, wait time.Duration) *Limiter {
	if max <= 0 {
		max = 1
	}
	return &Limiter{slots: make(chan struct{}, max), queueLen: int64(queueLen), wait: wait}
}

// Acquire takes a slot, waiting briefly if the queue has room. It reports
// false when the request must be shed.
func (l *Limiter) Acquire() bool {
	select {
	case l.slots <- struct{}{}:
		l.inflight.Add(1)
		l.admitted.Add(1)
		return true
	default:
	}
	if l.queued.Add(1) > l.queueLen {
		l.queued.Add(-1)
		l.shed.Add(1)
		return false
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		l.queued.Add(-1)
		l.inflight.Add(1)
		l.admitted.Add(1)
		return true
	case <-t.C:
		l.queued.Add(-1)
		l.shed.Add(1)
		return false
	}
}

// Release frees a slot.
func (l *Limiter) Release() {
	l.inflight.Add(-1)
	<-l.slots
}

// Limit is the number of slots.
func (l *Limiter) Limit() int { return cap(l.slots) }

// InFlight, Queued and Shed report the limiter's state.
func (l *Limiter) InFlight() int64 { return l.inflight.Load() }
func (l *Limiter) Queued() int64   { return l.queued.Load() }
func (l *Limiter) Shed() int64     { return l.shed.Load() }
