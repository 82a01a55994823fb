package wasmpool

// #cgo linux LDFLAGS: -lpthread
// #include "wasmpool.h"
import "C"

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// Ticker keeps an engine's epoch in step with the monotonic clock, from a
// native thread (ticker.c) rather than a goroutine. Time limits count
// epochs, and a goroutine's timer is late whenever the Go scheduler is:
// with every core busy running guests (which hold their threads in cgo
// calls) a Go ticker was measured half a second late. A thread asleep in
// clock_nanosleep is woken by the kernel alone.
//
// Each time the thread runs it adds one epoch per whole tick elapsed since
// the epoch was last in step, so a late run loses nothing; Lag tells how
// many ticks the epoch owes the clock at this moment, which a new
// deadline must add. The thread runs while invocations are in flight
// (Enter, Leave) and for grace after the last one, then parks: an idle
// process does no periodic work, and parked time counts for no deadline.
type Ticker struct {
	t      *C.wasmpool_ticker_t
	engine *wasmtime.Engine
	tick   int64
	base   time.Time // the Go clock when the C clock read baseC
	baseC  int64
	once   sync.Once
}

// StartTicker starts a ticker for e. Stop it before closing e.
func StartTicker(e *wasmtime.Engine, tick, grace time.Duration) (*Ticker, error) {
	if tickerLayoutErr != nil {
		return nil, tickerLayoutErr
	}
	if tick <= 0 {
		return nil, errors.New("wasmpool: the tick must be positive")
	}
	var now C.int64_t
	base := time.Now()
	t := C.wasmpool_ticker_start(enginePtr(e), C.int64_t(tick), C.int64_t(grace), &now)
	runtime.KeepAlive(e)
	if t == nil {
		return nil, errors.New("wasmpool: cannot start the epoch ticker thread")
	}
	return &Ticker{t: t, engine: e, tick: int64(tick), base: base, baseC: int64(now)}, nil
}

func (t *Ticker) active() *int64 { return (*int64)(unsafe.Pointer(&t.t.active)) }
func (t *Ticker) synced() *int64 { return (*int64)(unsafe.Pointer(&t.t.synced)) }

// Enter records an invocation starting, waking the thread if it is
// parked. It costs a cgo call only then.
func (t *Ticker) Enter() {
	atomic.AddInt64(t.active(), 1)
	if atomic.LoadInt64(t.synced()) == -1 {
		C.wasmpool_ticker_wake(t.t)
	}
}

// Leave records an invocation's end.
func (t *Ticker) Leave() { atomic.AddInt64(t.active(), -1) }

// Lag is how many whole ticks the engine's epoch is behind the clock now
// (0 while parked: the epoch restarts from the wake-up).
func (t *Ticker) Lag() uint64 {
	synced := atomic.LoadInt64(t.synced())
	if synced == -1 {
		return 0
	}
	d := t.baseC + int64(time.Since(t.base)) - synced
	if d <= 0 {
		return 0
	}
	return uint64(d / t.tick)
}

// SetDeadline gives store a wall-clock time limit of timeout from now. The
// guest is checked every slice (rounded to ticks): at each check it yields
// its core, so that however many guests spin, the node's own threads get
// to run, and at the first check past the deadline it fails with an error
// whose message holds "interrupt". Call it after Enter.
func (t *Ticker) SetDeadline(store *wasmtime.Store, timeout, slice time.Duration) {
	at := t.baseC + int64(time.Since(t.base)) + int64(timeout)
	C.wasmpool_ticker_deadline(t.t, storePtr(store), contextPtr(store), C.int64_t(at), C.int64_t(max(1, int64(slice)/t.tick)))
	runtime.KeepAlive(store)
}

// Parked reports whether the thread is parked (for tests).
func (t *Ticker) Parked() bool { return atomic.LoadInt64(t.synced()) == -1 }

// Stop ends the thread and frees the ticker. The engine may be closed
// afterwards.
func (t *Ticker) Stop() {
	t.once.Do(func() {
		C.wasmpool_ticker_stop(t.t)
		t.t = nil
		runtime.KeepAlive(t.engine)
	})
}
