package loadgen

import (
	"errors"
	"net"
	"sync"
	"time"
)

// errDialAfterStop is returned to a worker that tries to connect after the
// run was torn down.
var errDialAfterStop = errors.New("loadgen: run is over, not dialling")

// connTracker dials connections for the workers and remembers them, so the
// run can close every connection at its hard deadline even while a request
// is blocked on one.
type connTracker struct {
	dialer net.Dialer

	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func newConnTracker(dialTimeout time.Duration) *connTracker {
	return &connTracker{dialer: net.Dialer{Timeout: dialTimeout}, conns: map[*trackedConn]struct{}{}}
}

// dial is a fasthttp.DialFunc.
func (t *connTracker) dial(addr string) (net.Conn, error) {
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return nil, errDialAfterStop
	}
	c, err := t.dialer.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		_ = c.Close()
		return nil, errDialAfterStop
	}
	t.conns[tc] = struct{}{}
	return tc, nil
}

// closeAll closes every open connection and refuses further dials.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	t.closed = true
	conns := make([]*trackedConn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
		err = c.Conn.Close()
	})
	return err
}
