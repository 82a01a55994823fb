package gateway

import (
	"fmt"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/wedge-run/wedge/internal/registry"

	"github.com/wedge-run/wedge/model"
)

// Forwarder picks a peer's public address to take a request this node
// cannot serve now; ok is false when there is none.
type Forwarder func() (addr string, ok bool)

// hopHeader marks a forwarded request; a node never forwards one again,
// so a request crosses at most one extra hop.
const hopHeader = "X-Wedge-Forwarded"

// SetForwarder enables forwarding of requests the node would shed.
func (s *Server) SetForwarder(f Forwarder) { s.forward.Store(&f) }

// Installing finds the function a path will route to once this node has
// installed it (a function learned from a peer whose module is still
// being fetched or compiled): its name, the route of it that matches
// path (and host, the request's Host header), its affinity pattern ("" for
// none), and the public address of a peer that serves it now.
type Installing func(host, path []byte) (function, route, affinity, peer string, ok bool)

// SetInstalling makes requests for functions still being installed go
// to a peer that has them, instead of a 404.
func (s *Server) SetInstalling(f Installing) { s.installing.Store(&f) }

// Owner names the node that serves key under function's affinity
// (internal/registry/affinity.go), chosen among the nodes that have the function
// installed: its public address, and whether it is this node; ok is
// false when no node serving the function is known.
type Owner func(function, key string) (addr string, self, ok bool)

// SetOwner enables affinity: requests matching a function's affinity
// pattern go to the node that owns their key.
func (s *Server) SetOwner(f Owner) { s.owner.Store(&f) }

// servePinned routes a request under function's affinity, with key
// (see registry.AffinityKey), and reports whether it answered it. It
// returns false only when this node owns the key (or there is no
// cluster): the caller then runs it here, and calls done when it has
// finished (DrainPinned waits for it). Otherwise the request goes to
// the owner, once; a request this node may not run (it was forwarded
// here by a node with another view of the owners, or the owner could
// not be reached, or no node serves the function yet) is refused with
// 503 and Retry-After, never run here: one node writes each key.
func (s *Server) servePinned(ctx *fasthttp.RequestCtx, function string, key []byte) (done func(), answered bool) {
	fp := s.owner.Load()
	if fp == nil {
		return func() {}, false
	}
	// Counted before the owner is asked: a take-over that changes the
	// owner after this point drains this request (pinned.go).
	done = s.pinned.enter(function)
	addr, self, ok := (*fp)(function, string(key))
	if ok && self {
		return done, false
	}
	done()
	if ok && s.forwardTo(ctx, addr) {
		s.metrics.byOwner.Add(1)
		return done, true
	}
	s.metrics.notOwner.Add(1)
	ctx.Response.Header.Set("Retry-After", "1")
	cause := "its key is owned by another node, which could not take the request; try again shortly"
	if !ok {
		cause = "no node serves it yet; try again shortly"
	}
	s.writeError(ctx, function, "", fmt.Errorf("%w: %s", errNotOwner, cause))
	return done, true
}

// stillOwner checks again, once a pinned request got its slot, that this
// node still owns its key: the wait for a slot may have spanned a peer's
// take-over, whose drain (DrainPinned) then bounds only the run itself
// by the function's timeout. If not, it answers 503 with Retry-After.
func (s *Server) stillOwner(ctx *fasthttp.RequestCtx, function string, key []byte) bool {
	fp := s.owner.Load()
	if fp == nil {
		return true
	}
	if _, self, ok := (*fp)(function, string(key)); ok && self {
		return true
	}
	s.metrics.notOwner.Add(1)
	ctx.Response.Header.Set("Retry-After", "1")
	s.writeError(ctx, function, "", fmt.Errorf("%w: its key moved to another node while the request waited; try again shortly", errNotOwner))
	return false
}

// serveInstalling answers a request for a function this node is
// installing, when its route beats the one path matched here (matched:
// "" for none; an app's catch-all /... must not answer for an API
// function that is still on its way): forwarded to its key's owner
// under affinity, else to a peer that serves it, or a 503 to retry. It
// reports whether it answered.
func (s *Server) serveInstalling(ctx *fasthttp.RequestCtx, path []byte, matched string) bool {
	fp := s.installing.Load()
	if fp == nil {
		return false
	}
	name, route, affinity, peer, ok := (*fp)(ctx.Host(), path)
	if !ok || (matched != "" && !model.MoreSpecific(route, matched)) {
		return false
	}
	if affinity != "" {
		if key, pinned := registry.AffinityKey(affinity, path); pinned {
			done, answered := s.servePinned(ctx, name, key)
			done() // not installed here: never run here
			if answered {
				return true
			}
		}
	}
	if peer != "" && s.forwardTo(ctx, peer) {
		return true
	}
	ctx.Response.Header.Set("Retry-After", "1")
	s.writeError(ctx, name, "", fmt.Errorf("%w: its module is being fetched and compiled on this node and no peer could take the request; try again shortly", errInstalling))
	return true
}

var peerClients sync.Map // addr -> *fasthttp.HostClient

// tryForward proxies the request to a peer. It reports whether it did.
func (s *Server) tryForward(ctx *fasthttp.RequestCtx) bool {
	fp := s.forward.Load()
	if fp == nil || len(ctx.Request.Header.Peek(hopHeader)) > 0 {
		return false
	}
	addr, ok := (*fp)()
	if !ok {
		return false
	}
	return s.forwardTo(ctx, addr)
}

// forwardTo proxies the request to the peer at addr, once: the hop
// header stops the peer from forwarding it again.
func (s *Server) forwardTo(ctx *fasthttp.RequestCtx, addr string) bool {
	if addr == s.PublicAddr() || len(ctx.Request.Header.Peek(hopHeader)) > 0 {
		return false
	}
	c, _ := peerClients.LoadOrStore(addr, &fasthttp.HostClient{Addr: addr, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, MaxConns: 256})
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	ctx.Request.CopyTo(req)
	req.Header.Set(hopHeader, s.cfg.NodeName)
	sp := s.startForward(ctx, req, addr)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := c.(*fasthttp.HostClient).DoTimeout(req, resp, 30*time.Second); err != nil {
		sp.Fail(err)
		sp.End()
		return false
	}
	sp.End()
	resp.CopyTo(&ctx.Response)
	ctx.Response.Header.Set("X-Wedge-Served-By", addr)
	s.metrics.forwarded.Add(1)
	return true
}
