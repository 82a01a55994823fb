package invoke

import (
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"
)

// fill acquires for each function in turn, round-robin, until none can
// take more; it returns the tickets per function.
func fill(s *Scheduler, fns ...string) map[string][]Ticket {
	held := map[string][]Ticket{}
	for progress := true; progress; {
		progress = false
		for _, fn := range fns {
			if tk, err := s.acquire(fn, Demand{}); err == nil {
				held[fn] = append(held[fn], tk)
				progress = true
			}
		}
	}
	return held
}

func doneAll(ts []Ticket) {
	for _, t := range ts {
		t.Done()
	}
}

// TestSchedulerFloodsLeaveTheReserve: three functions grab every slot they
// can and never give one back (requests that loop until their time
// limit). A fourth function still gets a slot at once, and so do a few
// more; the three share what they hold equally.
func TestSchedulerFloodsLeaveTheReserve(t *testing.T) {
	s := NewScheduler(SchedulerConfig{Limit: 16, QueueLen: 32}) // no wait: refusals are immediate
	held := fill(s, "a", "b", "c")
	for _, fn := range []string{"a", "b", "c"} {
		if n := len(held[fn]); n != 4 {
			t.Fatalf("%s holds %d slots, want an equal share of 4 (12 for the three, 4 kept)", fn, n)
		}
	}
	for _, fn := range []string{"d", "e", "f", "g"} {
		if _, err := s.acquire(fn, Demand{}); err != nil {
			t.Fatalf("%s refused while three floods hold their share: %v", fn, err)
		}
	}
	if _, err := s.acquire("h", Demand{}); !errors.Is(err, ErrSaturated) {
		t.Fatalf("a 17th invocation: %v, want ErrSaturated", err)
	}
	if st := s.Stats(); st.InFlight != 16 || st.MaxSeen != 16 {
		t.Fatalf("%+v", st)
	}
}

// TestSchedulerSharesShrinkAsFunctionsGetBusy: a function alone takes
// three quarters of the node; when others arrive it is held to an equal
// share as its slots come back, while the newcomers get their floor at
// once.
func TestSchedulerSharesShrinkAsFunctionsGetBusy(t *testing.T) {
	s := NewScheduler(SchedulerConfig{Limit: 16, QueueLen: 32})
	a := fill(s, "a")["a"]
	if len(a) != 12 {
		t.Fatalf("a alone holds %d, want 12 of 16", len(a))
	}
	late := fill(s, "b", "c", "d") // the reserve: a floor each
	for _, fn := range []string{"b", "c", "d"} {
		if len(late[fn]) != 1 {
			t.Fatalf("%s got %d slots beside a flood, want its floor of 1", fn, len(late[fn]))
		}
	}
	// a's long requests end; everyone floods again.
	doneAll(a)
	again := fill(s, "a", "b", "c", "d")
	for _, fn := range []string{"a", "b", "c", "d"} {
		if n := len(again[fn]) + len(late[fn]); n != 3 {
			t.Fatalf("%s holds %d after the floods settled, want an equal share of 3 (12/4)", fn, n)
		}
	}
	// A light function (one request at a time) gets in, and its slot is
	// not counted against the busy ones' shares beyond its own.
	if _, err := s.acquire("e", Demand{}); err != nil {
		t.Fatal(err)
	}
}

// TestSchedulerMaxMinShare: functions with light demand keep their one
// slot; a busy function gets the rest of the non-reserved slots.
func TestSchedulerMaxMinShare(t *testing.T) {
	s := NewScheduler(SchedulerConfig{Limit: 16, QueueLen: 32})
	for _, fn := range []string{"l1", "l2", "l3", "l4", "l5"} {
		if _, err := s.acquire(fn, Demand{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(fill(s, "heavy")["heavy"]); n != 7 {
		t.Fatalf("heavy holds %d beside five light functions, want 12-5 = 7", n)
	}
	// Its own max_concurrency lowers its share, never raises it.
	s2 := NewScheduler(SchedulerConfig{Limit: 16, QueueLen: 32})
	for i := 0; i < 16; i++ {
		s2.acquire("capped", Demand{MaxConcurrency: 100})
	}
	if st := s2.Stats(); st.InFlight != 12 {
		t.Fatalf("a function asking for 100 holds %d of 16, want 12", st.InFlight)
	}
}

// TestSchedulerMemoryBudget: reservations never exceed the budget; beyond
// its first invocation a function leaves a quarter of the budget free; a
// function larger than the whole budget is refused outright; memory
// comes back on Done.
func TestSchedulerMemoryBudget(t *testing.T) {
	s := NewScheduler(SchedulerConfig{Limit: 16, QueueLen: 32, MemoryBudget: 1000})
	big := Demand{MemoryBytes: 300}
	a1, err := s.acquire("a", big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.acquire("a", big); err != nil { // 600 used, 400 left >= 250 kept
		t.Fatal(err)
	}
	if _, err := s.acquire("a", big); !errors.Is(err, ErrMemoryBudget) { // would leave 100 < 250
		t.Fatalf("third: %v, want ErrMemoryBudget", err)
	}
	if _, err := s.acquire("b", big); err != nil { // b's floor may use the reserve: 900
		t.Fatal(err)
	}
	if _, err := s.acquire("c", big); !errors.Is(err, ErrMemoryBudget) { // 1200 > 1000
		t.Fatalf("over the budget: %v", err)
	}
	if _, err := s.acquire("huge", Demand{MemoryBytes: 1001}); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("larger than the budget: %v", err)
	}
	a1.Done()
	if _, err := s.acquire("c", big); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if st := s.Stats(); st.MemoryReserved != 900 || st.MemoryMaxSeen != 900 || st.MemoryBudget != 1000 {
		t.Fatalf("%+v", st)
	}
}

// TestSchedulerMemoryHammer: concurrent invocations of functions of
// different sizes, queueing for memory: the reservations never exceed the
// budget and all come back.
func TestSchedulerMemoryHammer(t *testing.T) {
	const budget = 1 << 30
	s := NewScheduler(SchedulerConfig{Limit: 64, QueueLen: 128, QueueWait: 20 * time.Millisecond, MemoryBudget: budget})
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(g)))
			for i := 0; i < 30; i++ {
				fn := r.Intn(4)
				tk, err := s.acquire(fmt.Sprint("f", fn), Demand{MemoryBytes: int64(fn+1) * 128 << 20})
				mu.Lock()
				outcomes[fmt.Sprint(err)]++
				mu.Unlock()
				if err == nil {
					time.Sleep(time.Duration(r.Intn(500)) * time.Microsecond)
					tk.Done()
				}
			}
		}(g)
	}
	wg.Wait()
	st := s.Stats()
	if st.MemoryMaxSeen > budget || st.MemoryReserved != 0 || st.InFlight != 0 || st.Queued != 0 {
		t.Fatalf("%+v", st)
	}
	if outcomes["<nil>"] == 0 || outcomes[ErrMemoryBudget.Error()] == 0 {
		t.Fatalf("want both admitted and memory-refused invocations: %v", outcomes)
	}
	t.Logf("outcomes %v, most memory reserved %d MiB of %d", outcomes, st.MemoryMaxSeen>>20, budget>>20)
}
