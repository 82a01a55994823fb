package invoke

// The admission rule: who may take a slot now. docs/RATIONALE.md ("Why
// a floor, a reserve and shrinking shares?") explains it; in short, with
// L the node's limit and R = L - floor(L * FunctionShare) (a quarter by
// default), a function f may start an invocation when a slot is free,
// its memory fits the budget, it is under its own max_concurrency, and
//
//  1. f runs nothing yet (the floor: every function gets one slot,
//     reserve included), or
//  2. starting it leaves at least R slots (and a quarter of the memory
//     budget) free, and f holds fewer than its share:
//     (L - R - slots held by light functions) / busy functions,
//     where a busy function runs more than one invocation or has
//     requests waiting, and a light one runs exactly one.
//
// Shares shrink as more functions get busy (max-min fairness, with light
// functions keeping their one slot), and the reserve is never taken by a
// function beyond its first invocation, so however long one or a few
// functions hold their slots (a loop until the time limit), a function
// that was idle finds a free slot, and once the long invocations end the
// busy functions settle at equal shares.

// isBusy: more than one invocation in flight, or requests waiting.
func isBusy(f *fnSched) bool { return f.inflight > 1 || len(f.waiters) > 0 }

// unaccount and account bracket every change to a function's in-flight
// count or waiters, keeping busy and lightSlots up to date. Caller holds
// mu.
func (s *Scheduler) unaccount(f *fnSched) {
	if isBusy(f) {
		s.busy--
	} else if f.inflight == 1 {
		s.lightSlots--
	}
}

func (s *Scheduler) account(f *fnSched) {
	if isBusy(f) {
		s.busy++
	} else if f.inflight == 1 {
		s.lightSlots++
	}
}

// reserveSlots is R: the slots only first invocations may take.
func (s *Scheduler) reserveSlots() int {
	return s.limit - max(1, int(float64(s.limit)*s.fnShare))
}

// reserveMem is the memory only first invocations may take.
func (s *Scheduler) reserveMem() int64 {
	return s.memBudget - int64(float64(s.memBudget)*s.fnShare)
}

// shareOf is how many invocations f may hold once busy.
func (s *Scheduler) shareOf(f *fnSched) int {
	busy, light := s.busy, s.lightSlots
	if !isBusy(f) { // it would be busy with one more
		busy++
		if f.inflight == 1 {
			light--
		}
	}
	return max(1, (s.limit-s.reserveSlots()-light)/busy)
}

// capOf is what f may hold now: its share, or its own cap if lower.
func (s *Scheduler) capOf(f *fnSched) int {
	c := s.shareOf(f)
	if f.max > 0 {
		c = min(c, f.max)
	}
	return c
}

// canAdmit applies the rule above. Caller holds mu.
func (s *Scheduler) canAdmit(f *fnSched) bool {
	if s.inflight >= s.limit || (f.max > 0 && f.inflight >= f.max) {
		return false
	}
	memFree := s.memBudget - s.memUsed - f.mem
	if s.memBudget > 0 && memFree < 0 {
		return false
	}
	if f.inflight == 0 {
		return true
	}
	if s.limit-s.inflight-1 < s.reserveSlots() {
		return false
	}
	if s.memBudget > 0 && memFree < s.reserveMem() {
		return false
	}
	return f.inflight < s.shareOf(f)
}

// blocked names what keeps f waiting: memory or slots. Caller holds mu.
func (s *Scheduler) blocked(f *fnSched) error {
	if s.memBudget > 0 {
		memFree := s.memBudget - s.memUsed - f.mem
		if memFree < 0 || (f.inflight > 0 && memFree < s.reserveMem()) {
			return ErrMemoryBudget
		}
	}
	return ErrSaturated
}

// queueShare bounds f's waiters: the queue split among the busy
// functions and one more, so a function that starts waiting finds room.
func (s *Scheduler) queueShare(f *fnSched) int {
	busy := s.busy
	if !isBusy(f) {
		busy++
	}
	return max(1, s.queueMax/(busy+1))
}
