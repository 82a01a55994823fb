package invoke

import (
	"errors"
	"testing"
	"time"
)

// waitFor polls cond (the scheduler's state, changed by goroutines).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSchedulerShedsByExpectedWait: a request is queued only if, by the
// function's mean duration and its share of slots, it would get a slot
// within the wait; past that it is shed at once, not at the deadline. A
// fast function's queue is bounded by time, not by a count.
func TestSchedulerShedsByExpectedWait(t *testing.T) {
	const wait = 10 * time.Second // long: only the estimate may shed here
	s := NewScheduler(SchedulerConfig{Limit: 4, QueueLen: 1000, QueueWait: wait})
	var held []Ticket
	for i := 0; i < 3; i++ { // slow's share: 3 of 4
		tk, err := s.acquire("slow", Demand{})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, tk)
	}
	s.mu.Lock()
	s.fns["slow"].svc = float64(4 * time.Second) // each slot frees every 4 s: a waiter every 4/3 s
	s.mu.Unlock()
	results := make(chan error, 16)
	for i := 0; i < 7; i++ { // 7 x 4s/3 = 9.3 s fits in the wait; the 8th would not
		go func() {
			tk, err := s.acquire("slow", Demand{})
			if err == nil {
				tk.Done()
			}
			results <- err
		}()
	}
	waitFor(t, "seven queued", func() bool { return s.Stats().Queued == 7 })
	if _, err := s.acquire("slow", Demand{}); !errors.Is(err, ErrSaturated) {
		t.Fatalf("an eighth waiter (10.7 s expected) was not shed: %v", err)
	}
	if st := s.Stats(); st.Queued != 7 || st.Shed != 1 {
		t.Fatalf("%+v", st)
	}

	// A fast function queues far more than a count bound of twice the
	// limit would allow.
	s.mu.Lock()
	s.fns["slow"].svc = float64(50 * time.Microsecond)
	s.mu.Unlock()
	for i := 0; i < 9; i++ {
		go func() {
			tk, err := s.acquire("slow", Demand{})
			if err == nil {
				tk.Done()
			}
			results <- err
		}()
	}
	waitFor(t, "sixteen queued", func() bool { return s.Stats().Queued == 16 })
	for _, tk := range held {
		tk.Done()
	}
	for i := 0; i < 16; i++ {
		if err := <-results; err != nil {
			t.Fatalf("a queued request was shed: %v", err)
		}
	}
	if st := s.Stats(); st.InFlight != 0 || st.Queued != 0 || st.Shed != 1 {
		t.Fatalf("%+v", st)
	}
}
