package gateway

import (
	"crypto/subtle"

	"github.com/valyala/fasthttp"
)

// What the web console (internal/console) needs of the gateway: a second
// way into the admin API (its session cookie), the admin token check for
// its sign-in, and the per-function counters its charts sample.

// SetSessionAuth lets f authorize admin requests that carry no bearer
// token (the console's session cookie, with its CSRF check). f sees the
// request and says whether it may proceed as the admin token would.
func (s *Server) SetSessionAuth(f func(ctx *fasthttp.RequestCtx) bool) { s.session.Store(&f) }

func (s *Server) sessionAuthorized(ctx *fasthttp.RequestCtx) bool {
	f := s.session.Load()
	return f != nil && (*f)(ctx)
}

// CheckAdminToken reports whether token is the admin token (in constant
// time): the console exchanges it for a session.
func (s *Server) CheckAdminToken(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) == 1
}

// FunctionCounters are a function's public request counters since the
// node started: what /metrics shows, as numbers.
type FunctionCounters struct {
	Requests int64 // answered, any status
	Errors   int64 // answered with a 5xx
	// Buckets counts requests by duration: Buckets[i] those at most
	// LatencyBounds[i] seconds (and above the previous bound); the last
	// one those above every bound.
	Buckets []int64
}

// LatencyBounds are the upper bounds, in seconds, of
// FunctionCounters.Buckets (the last bucket has none).
func LatencyBounds() []float64 { return append([]float64(nil), latencyBuckets...) }

// FunctionCounters returns the counters of every function that has
// served a public request on this node.
func (s *Server) FunctionCounters() map[string]FunctionCounters {
	s.metrics.mu.RLock()
	defer s.metrics.mu.RUnlock()
	out := make(map[string]FunctionCounters, len(s.metrics.fns))
	for name, f := range s.metrics.fns {
		c := FunctionCounters{Requests: f.count.Load(), Errors: f.byStatus[5].Load(), Buckets: make([]int64, len(f.buckets))}
		for i := range f.buckets {
			c.Buckets[i] = f.buckets[i].Load()
		}
		out[name] = c
	}
	return out
}
