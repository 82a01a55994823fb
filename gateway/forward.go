package gateway

import (
	"fmt"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/wedge-run/wedge/registry"
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
// being fetched or compiled): its name and the route of it that matches
// path, and the public address of a peer that serves it now.
type Installing func(path []byte) (function, route, peer string, ok bool)

// SetInstalling makes requests for functions still being installed go
// to a peer that has them, instead of a 404.
func (s *Server) SetInstalling(f Installing) { s.installing.Store(&f) }

// Owner names the node that serves key under a function's affinity
// (registry/affinity.go): its public address, and whether it is this
// node; ok is false when it cannot tell (no cluster).
type Owner func(key string) (addr string, self, ok bool)

// SetOwner enables affinity: requests matching a function's affinity
// pattern go to the node that owns their key.
func (s *Server) SetOwner(f Owner) { s.owner.Store(&f) }

// serveByOwner forwards a request with affinity key key (see
// registry.AffinityKey) to the node that owns it, and reports whether it
// did. A request already forwarded once, or one the owner could not
// take, is served here: availability first, so during a membership
// change two nodes may serve one key.
func (s *Server) serveByOwner(ctx *fasthttp.RequestCtx, fn *registry.Function, key []byte) bool {
	fp := s.owner.Load()
	if fp == nil || len(ctx.Request.Header.Peek(hopHeader)) > 0 {
		return false
	}
	addr, self, ok := (*fp)(fn.Record.Name + "/" + string(key))
	if !ok || self {
		return false
	}
	if s.forwardTo(ctx, addr) {
		s.metrics.byOwner.Add(1)
		return true
	}
	return false
}

// serveInstalling answers a request for a function this node is
// installing, when its route beats the one path matched here (matched:
// "" for none; an app's catch-all /... must not answer for an API
// function that is still on its way): forwarded to a peer that serves
// it, or a 503 to retry. It reports whether it answered.
func (s *Server) serveInstalling(ctx *fasthttp.RequestCtx, path []byte, matched string) bool {
	fp := s.installing.Load()
	if fp == nil {
		return false
	}
	name, route, peer, ok := (*fp)(path)
	if !ok || (matched != "" && !registry.MoreSpecific(route, matched)) {
		return false
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
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := c.(*fasthttp.HostClient).DoTimeout(req, resp, 30*time.Second); err != nil {
		return false
	}
	resp.CopyTo(&ctx.Response)
	ctx.Response.Header.Set("X-Wedge-Served-By", addr)
	s.metrics.forwarded.Add(1)
	return true
}
