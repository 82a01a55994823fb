package gateway

import (
	"bytes"
	"crypto/subtle"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/access"
)

// What the web console (internal/console) needs of the gateway: a second
// way into the admin API (its session cookie), the token checks for its
// sign-in and sessions, the token a request came with, and the
// per-function counters its charts sample.

// ConsoleCookie names the console's session cookie.
const ConsoleCookie = "wedge_console"

var consoleCookieEq = []byte(ConsoleCookie + "=")

// dropConsoleCookie removes the console's session cookie from a public
// request before anything sees it. Browsers send a host's cookies to
// every port of that host, so a signed-in browser visiting a function
// served on the same host would otherwise hand the session (which acts
// as its token on the admin API) to the function, and to whoever
// deployed it. A request without it costs one header lookup.
func dropConsoleCookie(h *fasthttp.RequestHeader) {
	if c := h.Peek(fasthttp.HeaderCookie); len(c) > 0 && bytes.Contains(c, consoleCookieEq) {
		h.DelCookie(ConsoleCookie)
	}
}

// SetSessionAuth lets f authorize admin requests that carry no bearer
// token (the console's session cookie, with its CSRF check). f sees the
// request and returns the token it may proceed as; that token's scope
// then applies as if it had been presented.
func (s *Server) SetSessionAuth(f func(ctx *fasthttp.RequestCtx) (access.Token, bool)) {
	s.session.Store(&f)
}

func (s *Server) sessionToken(ctx *fasthttp.RequestCtx) (access.Token, bool) {
	f := s.session.Load()
	if f == nil {
		return access.Token{}, false
	}
	return (*f)(ctx)
}

// LookupToken returns the token whose secret is secret: the node's admin
// token (named access.AdminName) or a stored one. The console exchanges
// it for a session.
func (s *Server) LookupToken(secret string) (access.Token, bool) {
	if secret == "" {
		return access.Token{}, false
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.AdminToken)) == 1 {
		return access.Token{Name: access.AdminName, Scope: access.ScopeAdmin}, true
	}
	if s.tokens == nil {
		return access.Token{}, false
	}
	return s.tokens.Lookup(secret)
}

// TokenByHash is LookupToken by the secret's hash (access.Hash), which is
// what a console session keeps: a session signed in with a token lives
// while this node accepts the token (not once it is revoked, nor once
// the node's admin token changes).
func (s *Server) TokenByHash(hash string) (access.Token, bool) {
	if hash == "" {
		return access.Token{}, false
	}
	if s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(access.Hash(s.cfg.AdminToken))) == 1 {
		return access.Token{Name: access.AdminName, Scope: access.ScopeAdmin}, true
	}
	if s.tokens == nil {
		return access.Token{}, false
	}
	return s.tokens.ByHash(hash)
}

// RestrictedToken returns the token an admin request was authorized
// with if it has a functions pattern (false: it may reach every
// function), for routes that list functions (the console's) to show only
// those it matches.
func RestrictedToken(ctx *fasthttp.RequestCtx) (access.Token, bool) {
	tok, ok := ctx.UserValue(tokenRestrictKey).(access.Token)
	return tok, ok
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
