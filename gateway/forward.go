package gateway

import (
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Forwarder picks a peer's public address to take a request this node
// cannot serve now; ok is false when there is none.
type Forwarder func() (addr string, ok bool)

// hopHeader marks a forwarded request; a node never forwards one again,
// so a request crosses at most one extra hop.
const hopHeader = "X-Wedge-Forwarded"

// SetForwarder enables forwarding of requests the node would shed.
func (s *Server) SetForwarder(f Forwarder) { s.forward.Store(&f) }

var peerClients sync.Map // addr -> *fasthttp.HostClient

// tryForward proxies the request to a peer. It reports whether it did.
func (s *Server) tryForward(ctx *fasthttp.RequestCtx) bool {
	fp := s.forward.Load()
	if fp == nil || len(ctx.Request.Header.Peek(hopHeader)) > 0 {
		return false
	}
	addr, ok := (*fp)()
	if !ok || addr == s.PublicAddr() {
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
