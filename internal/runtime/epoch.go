package runtime

import (
	"sync/atomic"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// Time limits use wasmtime's epoch interruption: guests check the
// engine's epoch against their store's deadline at function entries and
// loop back-edges. A ticker keeps the epoch in step with the wall clock:
// each time it runs it adds one epoch per whole EpochTick elapsed since
// the last update, so runs it missed are made up for instead of lost.
// While no invocation runs the ticker parks (after tickerGrace) and the
// epoch stands still.
//
// The ticker is a native thread (wasmpool.Ticker): a goroutine's timer is
// late whenever the Go scheduler is, and with every core busy running
// guests (each holding its thread in a cgo call) a goroutine ticker was
// measured over half a second late. With it, a store's deadline is a
// clock reading: the epoch only says when to look (every checkSlice), the
// clock decides, and at each look the guest yields its core. Without the
// yield, 32 guests spinning on 2 cores starved the node's own threads, and
// requests waited a quarter of a second to even start.
//
// The goroutine (Engine.tick, with epochClock below) remains as the
// fallback if the thread cannot start; a deadline is then an epoch: the
// limit in ticks plus the ticks the epoch still owes the clock.

// tickerGrace is how long the ticker keeps running after the last
// invocation ends.
const tickerGrace = time.Second

// epochClock is the goroutine ticker's record of the epoch's position on
// the clock.
type epochClock struct {
	tick time.Duration
	// synced is when the epoch last caught up with the clock, in
	// nanoseconds since base; parked while the ticker is parked.
	synced atomic.Int64
	base   time.Time
}

func newEpochClock(base time.Time, tick time.Duration) *epochClock {
	return &epochClock{tick: tick, base: base}
}

const parked = -1

func (c *epochClock) since(now time.Time) int64 { return max(0, int64(now.Sub(c.base))) }

// due returns how many epochs the engine owes the clock at now; the
// remainder of a partial tick is carried over. Only the ticker goroutine
// calls it, then caughtUp once the engine's epoch was incremented n
// times. (Recording the progress only after the increments means a
// deadline set in between counts the owed ticks twice, never zero times:
// a guest may be stopped a few microseconds late, never early.)
func (c *epochClock) due(now time.Time) int {
	elapsed := c.since(now) - c.synced.Load()
	if elapsed < int64(c.tick) {
		return 0
	}
	return int(elapsed / int64(c.tick))
}

func (c *epochClock) caughtUp(n int) { c.synced.Add(int64(n) * int64(c.tick)) }

// park records that the epoch stops; restart that it runs again from now.
func (c *epochClock) park()                 { c.synced.Store(parked) }
func (c *epochClock) restart(now time.Time) { c.synced.Store(c.since(now)) }

// lag is how many whole ticks the epoch is behind the clock at now.
func (c *epochClock) lag(now time.Time) uint64 {
	last := c.synced.Load()
	if last == parked { // the epoch restarts from the wake-up
		return 0
	}
	d := c.since(now) - last
	if d <= 0 {
		return 0
	}
	return uint64(d / int64(c.tick))
}

// checkSlice is how often a running guest's deadline is checked when the
// native ticker keeps time. At each check the guest also yields its core
// (sched_yield), so that guests spinning on every core leave the node's
// own threads (the HTTP server, the scheduler) their turn.
const checkSlice = 2 * time.Millisecond

// setDeadline gives store its time limit, timeout from now. With the
// native ticker the deadline is a clock reading, checked every
// checkSlice; with the goroutine it is an epoch. Call it after enter.
func (e *Engine) setDeadline(store *wasmtime.Store, timeout time.Duration) {
	if e.ticker != nil {
		e.ticker.SetDeadline(store, timeout, checkSlice)
		return
	}
	store.SetEpochDeadline(e.deadlineTicks(timeout))
}

// deadlineTicks is the epoch delta for a store's deadline timeout from
// now: the limit in ticks, rounded up, plus the whole ticks the engine's
// epoch still owes the clock, plus one for the part of a tick lag leaves
// out (so a guest is never stopped early). Call it after enter, right
// before SetEpochDeadline.
func (e *Engine) deadlineTicks(timeout time.Duration) uint64 {
	var lag uint64
	if e.ticker != nil {
		lag = e.ticker.Lag()
	} else {
		lag = e.clock.lag(time.Now())
	}
	return uint64((timeout+e.cfg.EpochTick-1)/e.cfg.EpochTick) + lag + 1
}
