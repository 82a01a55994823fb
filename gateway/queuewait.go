package gateway

import "time"

// Shedding by waiting time. A queue bounded by a count sheds too early
// for fast functions (64 connections to a function that answers in
// microseconds got 503s from a 16-slot node whose queue held 32) and too
// late for slow ones (a request behind 16 others of a 2 s function waits
// for nothing: it will be shed at the deadline anyway). What a client
// cares about is how long it waits, so a request that must queue is
// admitted to the queue only if, by the current service times, it would
// get a slot within QueueWait:
//
//	function: (its waiters + 1) * its mean duration / its share of slots
//	node:     (all waiters + 1) * the mean duration / the node's limit
//
// and the larger of the two is compared with QueueWait. Durations are
// exponentially weighted moving averages of completed invocations. A
// function with no completed invocation yet queues, and the deadline still
// sheds whatever waits past QueueWait. The count bound stays, larger, as a
// cap on memory, split among the busy functions for fairness.

// svcWeight is the weight of a new duration in the moving averages.
const svcWeight = 0.1

// observe folds a completed invocation's duration into f's and the
// node's averages. Caller holds mu.
func (s *Scheduler) observe(f *fnSched, d time.Duration) {
	ns := float64(max(d, time.Microsecond))
	f.svc = ewma(f.svc, ns)
	s.svc = ewma(s.svc, ns)
}

func ewma(avg, x float64) float64 {
	if avg == 0 {
		return x
	}
	return avg + svcWeight*(x-avg)
}

// expectedWait estimates how long a request of f queued now would wait
// for a slot. Caller holds mu.
func (s *Scheduler) expectedWait(f *fnSched) time.Duration {
	fn := float64(len(f.waiters)+1) * f.svc / float64(max(1, s.capOf(f)))
	node := float64(s.queued+1) * s.svc / float64(max(1, s.limit))
	return time.Duration(max(fn, node))
}
