package runtime

import (
	"testing"
	"time"
)

// TestEpochClockFollowsTheClock checks the arithmetic that keeps the
// epoch on the wall clock: a late ticker adds every tick it missed, the
// part of a tick is carried over, the lag between two updates is what a
// new deadline must add, and parked time is charged to nobody.
func TestEpochClockFollowsTheClock(t *testing.T) {
	tick := 2 * time.Millisecond
	base := time.Now()
	c := newEpochClock(base, tick)
	at := func(d time.Duration) time.Time { return base.Add(d) }
	advance := func(now time.Time) int { n := c.due(now); c.caughtUp(n); return n }

	if n := advance(at(time.Millisecond)); n != 0 {
		t.Fatalf("half a tick advanced %d", n)
	}
	if n := advance(at(2 * time.Millisecond)); n != 1 {
		t.Fatalf("one tick advanced %d", n)
	}
	// The ticker starved for 101 ms: 50 ticks at once, 1 ms carried over.
	if n := advance(at(103 * time.Millisecond)); n != 50 {
		t.Fatalf("a ticker 101ms late advanced %d, want 50", n)
	}
	if n := advance(at(105 * time.Millisecond)); n != 1 {
		t.Fatalf("the carried millisecond was lost: %d", n)
	}
	// Between updates the epoch lags the clock: it stands at 52 ticks
	// (104 ms), the clock at 122.5 ms.
	if l := c.lag(at(122*time.Millisecond + time.Millisecond/2)); l != 9 {
		t.Fatalf("lag %d, want 9", l)
	}
	// Parked: the epoch stands still and no lag accrues; it restarts from
	// the wake-up.
	c.park()
	if l := c.lag(at(time.Hour)); l != 0 {
		t.Fatalf("lag while parked %d", l)
	}
	c.restart(at(time.Hour))
	if n := advance(at(time.Hour + 3*tick)); n != 3 {
		t.Fatalf("after a restart advanced %d, want 3", n)
	}
}
