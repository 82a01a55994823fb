package loadgen

import (
	"sync"
	"time"
)

// waiter is how an open-loop worker sleeps until its next request is due.
type waiter interface {
	// wait blocks for about d; false if interrupted.
	wait(d time.Duration) bool
	// interrupt makes the current and every later wait return false. Safe
	// to call from another goroutine and more than once.
	interrupt()
	// close releases the waiter; only after the last wait returned.
	close()
}

// timerWaiter uses a Go timer. Go timers are checked by the network
// poller with millisecond resolution when the process is otherwise idle,
// so a wait of d may last up to about d + 1ms.
type timerWaiter struct {
	t    *time.Timer
	stop chan struct{}
	once sync.Once
}

func newTimerWaiter() *timerWaiter {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timerWaiter{t: t, stop: make(chan struct{})}
}

func (w *timerWaiter) wait(d time.Duration) bool {
	w.t.Reset(d)
	select {
	case <-w.t.C:
		return true
	case <-w.stop:
		w.t.Stop()
		return false
	}
}

func (w *timerWaiter) interrupt() { w.once.Do(func() { close(w.stop) }) }

func (w *timerWaiter) close() { w.t.Stop() }
