package invoke

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
//	(its function's waiters + 1) * the function's mean duration / its share of slots
//
// Round-robin dispatch hands each busy function slots at the rate its own
// share frees them, so the estimate is per function: a node-wide one
// would mix a looping function's seconds into a fast function's
// microseconds. Durations are exponentially weighted moving averages of
// completed invocations. A function with no completed invocation yet
// queues, and the deadline still sheds whatever waits past QueueWait (a
// function held below its share by others' long invocations waits that
// long at most). The count bound stays, larger, as a cap on memory, split
// among the busy functions for fairness.

// svcWeight is the weight of a new duration in the moving averages.
const svcWeight = 0.1

// observe folds a completed invocation's duration into f's average.
// Caller holds mu.
func (s *Scheduler) observe(f *fnSched, d time.Duration) {
	f.svc = ewma(f.svc, float64(max(d, time.Microsecond)))
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
	return time.Duration(float64(len(f.waiters)+1) * f.svc / float64(max(1, s.capOf(f))))
}
