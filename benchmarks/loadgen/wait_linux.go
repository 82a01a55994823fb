//go:build linux

package loadgen

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fdWaiter sleeps on a timerfd read through Go's network poller: the
// kernel wakes the poller at the timer's expiry (tens of microseconds
// late, not the millisecond of a Go timer in an idle process), and no
// thread is held or spinning meanwhile.
type fdWaiter struct {
	fd       int
	f        *os.File
	buf      [8]byte
	fallback *timerWaiter // if arming the timerfd ever fails
}

// newWaiter returns a timerfd waiter, or a Go timer waiter if timerfds are
// unavailable.
func newWaiter() waiter {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return newTimerWaiter()
	}
	// A non-blocking descriptor is registered with the poller by NewFile.
	return &fdWaiter{fd: fd, f: os.NewFile(uintptr(fd), "loadgen-timerfd"), fallback: newTimerWaiter()}
}

func (w *fdWaiter) wait(d time.Duration) bool {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(max(d, 1)))}
	if err := unix.TimerfdSettime(w.fd, 0, &spec, nil); err != nil {
		return w.fallback.wait(d)
	}
	_, err := w.f.Read(w.buf[:])
	return err == nil
}

// interrupt sets a read deadline in the past: the pending and all later
// reads fail at once.
func (w *fdWaiter) interrupt() {
	_ = w.f.SetReadDeadline(time.Unix(1, 0))
	w.fallback.interrupt()
}

func (w *fdWaiter) close() {
	_ = w.f.Close()
	w.fallback.close()
}
