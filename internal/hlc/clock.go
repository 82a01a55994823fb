package hlc

import (
	"math"
	"sync"
	"time"
)

// WallClock is the physical clock a [Clock] reads. Tests inject a fake one
// instead of sleeping.
type WallClock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Clock is a hybrid logical clock. It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	wall WallClock
	last Timestamp
}

// New returns a clock reading wall. A nil wall uses the system clock.
func New(wall WallClock) *Clock {
	if wall == nil {
		wall = systemClock{}
	}
	return &Clock{wall: wall}
}

// Now returns a timestamp strictly greater than every timestamp this
// clock returned or was updated with before.
func (c *Clock) Now() Timestamp {
	pt := c.wall.Now().UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	if pt > c.last.Wall {
		c.last = Timestamp{Wall: pt}
	} else {
		c.last = tick(c.last.Wall, c.last.Logical)
	}
	return c.last
}

// Update merges a timestamp received from another node into the clock and
// returns a new local timestamp strictly greater than both remote and
// every timestamp this clock issued before. Call it for every remote
// timestamp a node learns of, so that its later writes order after what
// it has seen.
func (c *Clock) Update(remote Timestamp) Timestamp {
	pt := c.wall.Now().UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.last
	switch {
	case pt > l.Wall && pt > remote.Wall:
		c.last = Timestamp{Wall: pt}
	case l.Wall == remote.Wall:
		c.last = tick(l.Wall, max(l.Logical, remote.Logical))
	case l.Wall > remote.Wall:
		c.last = tick(l.Wall, l.Logical)
	default: // remote.Wall > l.Wall and remote.Wall >= pt
		c.last = tick(remote.Wall, remote.Logical)
	}
	return c.last
}

// Last returns the most recent timestamp the clock issued, without
// advancing it. It is the zero Timestamp for a new clock.
func (c *Clock) Last() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// tick returns the successor of (wall, logical): the next logical value,
// or the next millisecond when the logical counter is exhausted.
func tick(wall int64, logical uint32) Timestamp {
	if logical == math.MaxUint32 {
		return Timestamp{Wall: wall + 1}
	}
	return Timestamp{Wall: wall, Logical: logical + 1}
}
