package invoke

import (
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSchedulerHammer(t *testing.T) {
	s := NewScheduler(SchedulerConfig{Limit: 8, QueueLen: 32, QueueWait: 20 * time.Millisecond})
	const goroutines, each = 200, 20
	var admitted, shed, running, maxRunning atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(g)))
			for i := 0; i < each; i++ {
				fn := fmt.Sprintf("f%d", r.Intn(4))
				tk, err := s.acquire(fn, Demand{})
				ok := err == nil
				if !ok {
					shed.Add(1)
					continue
				}
				admitted.Add(1)
				n := running.Add(1)
				for {
					m := maxRunning.Load()
					if n <= m || maxRunning.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(time.Duration(r.Intn(300)) * time.Microsecond)
				running.Add(-1)
				tk.Done()
			}
		}(g)
	}
	wg.Wait()
	st := s.Stats()
	if admitted.Load()+shed.Load() != goroutines*each {
		t.Fatalf("lost requests: %d admitted + %d shed != %d", admitted.Load(), shed.Load(), goroutines*each)
	}
	if st.InFlight != 0 || st.Queued != 0 {
		t.Fatalf("not drained: %+v", st)
	}
	if maxRunning.Load() > 8 || st.MaxSeen > 8 {
		t.Fatalf("limit exceeded: observed %d, scheduler saw %d", maxRunning.Load(), st.MaxSeen)
	}
	if st.Admitted != admitted.Load() || st.Shed != shed.Load() {
		t.Fatalf("counters disagree: %+v vs %d/%d", st, admitted.Load(), shed.Load())
	}
	for name, f := range st.Functions {
		if f.InFlight != 0 || f.Queued != 0 {
			t.Fatalf("%s not drained: %+v", name, f)
		}
	}
}

// waitQueued waits until n requests of fn wait in s's queue.
func waitQueued(t *testing.T, s *Scheduler, fn string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Functions[fn].Queued != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d queued, want %d", fn, s.Stats().Functions[fn].Queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSchedulerPerFunctionCapAndFairness(t *testing.T) {
	s := NewScheduler(SchedulerConfig{Limit: 4, QueueLen: 100, QueueWait: time.Second})
	// The slow function takes its whole share (3 of 4 slots) ...
	var slow []Ticket
	for i := 0; i < 3; i++ {
		tk, ok := acquire(s, "slow", 0)
		if !ok {
			t.Fatal("slow not admitted")
		}
		slow = append(slow, tk)
	}
	// ... and cannot take the fourth: its next request waits.
	waiting := make(chan bool, 1)
	go func() { tk, ok := acquire(s, "slow", 0); tk.Done(); waiting <- ok }()
	waitQueued(t, s, "slow", 1)
	select {
	case <-waiting:
		t.Fatal("slow exceeded its share")
	default:
	}
	// The fast function still gets the remaining slot at once.
	tk, ok := acquire(s, "fast", 0)
	if !ok {
		t.Fatal("fast starved")
	}
	// When a slot frees up with both queued, they alternate.
	fastQueued := make(chan bool, 1)
	go func() { tk, ok := acquire(s, "fast", 0); tk.Done(); fastQueued <- ok }()
	waitQueued(t, s, "fast", 1)
	tk.Done() // frees the fast slot: the queued fast request runs (slow is at its cap)
	if !<-fastQueued {
		t.Fatal("queued fast request shed")
	}
	for _, x := range slow {
		x.Done()
	}
	if !<-waiting {
		t.Fatal("queued slow request shed")
	}
	if st := s.Stats(); st.InFlight != 0 || st.MaxSeen > 4 {
		t.Fatalf("%+v", st)
	}
}

func TestSchedulerShedsPastQueueAndDeadline(t *testing.T) {
	s := NewScheduler(SchedulerConfig{Limit: 1, QueueLen: 2, QueueWait: 30 * time.Millisecond})
	tk, _ := acquire(s, "f", 1)
	results := make(chan bool, 3)
	for i := 0; i < 3; i++ {
		go func() { t2, ok := acquire(s, "f", 1); results <- ok; t2.Done() }()
	}
	// Every one is shed while the slot is still held: past the queue at
	// once, or at its 30 ms deadline. (The bound only ends a test that
	// would otherwise wait for a slot that never frees.)
	for i := 0; i < 3; i++ {
		select {
		case ok := <-results:
			if ok {
				t.Fatal("admitted while the slot was held")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a request neither admitted nor shed while the slot was held")
		}
	}
	tk.Done()
	if st := s.Stats(); st.Shed != 3 || st.Queued != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestAdaptiveShrinksWhenLatencyInflatesAndGrowsUnderDemand(t *testing.T) {
	a := &Adaptive{Min: 2, Max: 64, Window: 10}
	a.init(32)
	limit := 32
	// Baseline: 1ms.
	for i := 0; i < 50; i++ {
		limit = a.observe("f", time.Millisecond, limit, 5)
	}
	grown := limit
	if grown <= 32 {
		t.Fatalf("did not grow under demand at steady latency: %d", grown)
	}
	// Latency x5: the limit must come down.
	for i := 0; i < 200; i++ {
		limit = a.observe("f", 5*time.Millisecond, limit, 5)
	}
	if limit >= grown/2 {
		t.Fatalf("did not shrink: %d (was %d)", limit, grown)
	}
	if limit < a.Min {
		t.Fatalf("below min: %d", limit)
	}
	// No queue: no growth.
	steady := limit
	for i := 0; i < 100; i++ {
		limit = a.observe("g", time.Millisecond, limit, 0)
	}
	if limit > steady {
		t.Fatalf("grew without demand: %d > %d", limit, steady)
	}
}

// acquire is acquire with a function cap and no memory, as a bool.
func acquire(s *Scheduler, fn string, max int) (Ticket, bool) {
	tk, err := s.acquire(fn, Demand{MaxConcurrency: max})
	return tk, err == nil
}
