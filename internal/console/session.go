package console

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// cookieName names the session cookie.
const cookieName = "wedge_console"

// csrfHeader must accompany every request that changes state when it is
// authorized by the session cookie: the console's script sets it; a form
// or a cross-origin page cannot (a custom header needs a CORS preflight,
// which the admin API never answers).
const csrfHeader = "X-Wedge-Console"

// maxSessions bounds the sessions kept; signing in past it drops the
// session closest to its expiry.
const maxSessions = 1024

// sessions are the signed-in browsers: id -> expiry.
type sessions struct {
	mu  sync.Mutex
	ttl time.Duration
	now func() time.Time
	m   map[string]time.Time
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, m: map[string]time.Time{}}
}

// create starts a session and returns its id and expiry.
func (s *sessions) create() (string, time.Time) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	id := hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, exp := range s.m {
		if !now.Before(exp) {
			delete(s.m, k)
		}
	}
	if len(s.m) >= maxSessions {
		var oldest string
		for k, exp := range s.m {
			if oldest == "" || exp.Before(s.m[oldest]) {
				oldest = k
			}
		}
		delete(s.m, oldest)
	}
	exp := now.Add(s.ttl)
	s.m[id] = exp
	return id, exp
}

// valid reports whether id is a live session, and its expiry.
func (s *sessions) valid(id string) (time.Time, bool) {
	if id == "" {
		return time.Time{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.m[id]
	if !ok {
		return time.Time{}, false
	}
	if !s.now().Before(exp) {
		delete(s.m, id)
		return time.Time{}, false
	}
	return exp, true
}

// revoke ends a session.
func (s *sessions) revoke(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}
