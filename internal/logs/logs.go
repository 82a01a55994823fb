package logs

import (
	"sync"
	"time"

	"github.com/wedge-run/wedge/abi"
)

// Entry is one log line.
type Entry struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Function  string    `json:"function"`
	RequestID string    `json:"request_id,omitempty"`
	Level     string    `json:"level"`
	Stream    string    `json:"stream"`
	Message   string    `json:"message"`
}

// Store holds a ring of recent lines per function.
type Store struct {
	mu       sync.Mutex
	perFn    int
	rings    map[string]*ring
	seq      uint64
	now      func() time.Time
	followMu sync.Mutex
}

type ring struct {
	buf       []Entry
	next      int
	full      bool
	followers map[*Follower]struct{}
}

// New returns a Store keeping the last perFunction lines of each function
// (default 1000).
func New(perFunction int) *Store {
	if perFunction <= 0 {
		perFunction = 1000
	}
	return &Store{perFn: perFunction, rings: map[string]*ring{}, now: time.Now}
}

// Append adds a line; it implements runtime.LogSink.
func (s *Store) Append(function, requestID string, level int32, stream string, line []byte) {
	e := Entry{Function: function, RequestID: requestID, Level: abi.LevelName(level), Stream: stream, Message: string(line)}
	s.mu.Lock()
	s.seq++
	e.Seq = s.seq
	e.Time = s.now().UTC()
	r := s.ringFor(function)
	if r.buf == nil {
		r.buf = make([]Entry, s.perFn)
	}
	r.buf[r.next] = e
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
	for f := range r.followers {
		select {
		case f.c <- e:
		default:
			f.missed++
		}
	}
	s.mu.Unlock()
}

func (s *Store) ringFor(function string) *ring {
	r := s.rings[function]
	if r == nil {
		r = &ring{followers: map[*Follower]struct{}{}}
		s.rings[function] = r
	}
	return r
}

// Tail returns up to n recent lines of function with Seq > after, oldest
// first.
func (s *Store) Tail(function string, after uint64, n int) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[function]
	if r == nil || r.buf == nil {
		return nil
	}
	var all []Entry
	if r.full {
		all = append(all, r.buf[r.next:]...)
	}
	all = append(all, r.buf[:r.next]...)
	out := all[:0:0]
	for _, e := range all {
		if e.Seq > after {
			out = append(out, e)
		}
	}
	if n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// Forget drops a function's history (after it is deleted). Followers stay
// attached and see new lines if the name is deployed again.
func (s *Store) Forget(function string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rings[function]; r != nil {
		r.buf, r.next, r.full = nil, 0, false
		if len(r.followers) == 0 {
			delete(s.rings, function)
		}
	}
}

// Follower receives new lines of one function.
type Follower struct {
	s      *Store
	fn     string
	c      chan Entry
	missed int
}

// Follow subscribes to new lines of function.
func (s *Store) Follow(function string, buffer int) *Follower {
	if buffer <= 0 {
		buffer = 256
	}
	f := &Follower{s: s, fn: function, c: make(chan Entry, buffer)}
	s.mu.Lock()
	s.ringFor(function).followers[f] = struct{}{}
	s.mu.Unlock()
	return f
}

// C delivers lines.
func (f *Follower) C() <-chan Entry { return f.c }

// Missed returns and resets the count of lines dropped because the
// follower was slow.
func (f *Follower) Missed() int {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	n := f.missed
	f.missed = 0
	return n
}

// Close detaches the follower.
func (f *Follower) Close() {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	if r := f.s.rings[f.fn]; r != nil {
		delete(r.followers, f)
	}
}
