package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/invoke"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/tracing"
)

// hopByHop headers are connection-level: a guest may not set them, in
// any letter case.
var hopByHop = [][]byte{
	[]byte("Connection"), []byte("Keep-Alive"), []byte("Proxy-Connection"), []byte("Transfer-Encoding"),
	[]byte("Te"), []byte("Trailer"), []byte("Upgrade"), []byte("Content-Length"),
}

func isHopByHop(name []byte) bool {
	for _, h := range hopByHop {
		if bytes.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// servePublic is the public gateway's handler: route, admit, invoke,
// respond.
func (s *Server) servePublic(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	// A host's cookies reach all its ports; the console's must not reach a function (console.go).
	dropConsoleCookie(&ctx.Request.Header)
	var tctx context.Context // the request's span; nil when untraced
	if s.tracer != nil {
		var sp tracing.Span
		tctx, sp = s.startRequest(ctx)
		defer endRequest(ctx, sp)
	}
	path := ctx.Path()
	if s.matchUpload(ctx, path) {
		return
	}
	fn, route := s.reg.Match(ctx.Host(), path)
	if s.serveInstalling(ctx, path, route) {
		return
	}
	if fn == nil {
		s.metrics.notFound.Add(1)
		ctx.Response.Header.Set("Content-Type", "text/plain; charset=utf-8")
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		fmt.Fprintf(ctx, "no function serves %s\n", path)
		return
	}
	pinned := false // a request under affinity is served by its key's owner, never handed on
	var key []byte
	if fn.Record.Affinity != "" {
		if key, pinned = registry.AffinityKey(fn.Record.Affinity, path); pinned {
			done, answered := s.servePinned(ctx, fn.Record.Name, key)
			defer done()
			if answered {
				return
			}
		}
	}
	fn = fn.Choose(trafficKey(ctx, fn)) // during a rollout: the new version or the stable one
	fm := s.metrics.function(fn.Record.Name)
	reqID := s.ids.next()
	c := runtime.NewCall()
	defer c.Release()
	c.RequestID = reqID
	ictx := context.Background()
	if tctx != nil {
		// The guest sees the request's span as its parent (the SDKs read
		// the traceparent header); the invoke service puts the admission,
		// instance and host-call spans under it.
		ctx.SetUserValue(traceFnKey, fn.Record.Name)
		tracing.Inject(tctx, &ctx.Request.Header)
		ictx = tctx // derived from context.Background: never cancelled
	}
	c.Head = appendHead(c.Head[:0], ctx, reqID, route)
	c.Body = ctx.PostBody()

	var admitted func() error
	if pinned {
		admitted = func() error {
			if !s.stillOwner(ctx, fn.Record.Name, key) {
				return errAnswered
			}
			return nil
		}
	}
	// Not ctx: a fasthttp RequestCtx is cancelled when the server shuts
	// down, and Close lets the requests it has taken finish.
	ran, err := s.inv.InvokeVersion(ictx, fn, c, admitted)
	switch {
	case err != nil && isShed(err):
		if !pinned && s.tryForward(ctx) {
			return
		}
		fm.shed.Add(1)
		ctx.Response.Header.Set("Retry-After", "1")
		s.writeError(ctx, fn.Record.Name, "", err)
		fm.observe(fasthttp.StatusServiceUnavailable, time.Since(start))
		return
	case errors.Is(err, errAnswered): // stillOwner wrote the 503
		fm.observe(fasthttp.StatusServiceUnavailable, time.Since(start))
		return
	}
	ctx.Response.Header.Set("X-Request-Id", reqID)
	// The version that ran: a request stays on the module it started
	// with, even if its version was replaced meanwhile.
	ctx.Response.Header.Set("X-Wedge-Version", strconv.FormatInt(ran.Record.Version, 10))
	if err != nil {
		status := s.writeError(ctx, ran.Record.Name, reqID, err)
		d := time.Since(start)
		fm.observe(status, d)
		fm.version(ran.Record.Version).observe(status, d)
		return
	}
	writeResponse(ctx, c)
	d := time.Since(start)
	fm.observe(c.Status, d)
	fm.version(ran.Record.Version).observe(c.Status, d)
}

// isShed reports whether err is admission's refusal. Its own function:
// the target errors.As writes to escapes to the heap, and a variable of
// servePublic would cost every request an allocation, failed or not.
func isShed(err error) bool {
	var shed *invoke.ShedError
	return errors.As(err, &shed)
}

// errAnswered ends an invocation whose response the gateway has written
// already (a pinned request this node no longer owns).
var errAnswered = errors.New("answered")

// appendHead encodes the request head for the guest (abi/README.md).
func appendHead(dst []byte, ctx *fasthttp.RequestCtx, reqID, route string) []byte {
	dst = abi.AppendBytes(dst, ctx.Method())
	dst = abi.AppendBytes(dst, ctx.RequestURI())
	dst = abi.AppendBytes(dst, ctx.Host())
	dst = appendRemoteAddr(dst, ctx.RemoteAddr())
	dst = abi.AppendString(dst, reqID)
	dst = abi.AppendString(dst, route)
	countAt := len(dst)
	dst = abi.AppendU32(dst, 0)
	n := uint32(0)
	for k, v := range ctx.Request.Header.All() {
		dst = abi.AppendBytes(dst, k)
		dst = abi.AppendBytes(dst, v)
		n++
	}
	dst[countAt] = byte(n)
	dst[countAt+1] = byte(n >> 8)
	dst[countAt+2] = byte(n >> 16)
	dst[countAt+3] = byte(n >> 24)
	return dst
}

var (
	hdrContentType = []byte("Content-Type")
)

func writeResponse(ctx *fasthttp.RequestCtx, c *runtime.Call) {
	ctx.SetStatusCode(c.Status)
	hasCT := false
	if len(c.Headers) > 0 {
		_ = abi.DecodeHeaders(c.Headers, func(name, value []byte) error {
			if isHopByHop(name) {
				return nil
			}
			if bytes.EqualFold(name, hdrContentType) {
				hasCT = true
				ctx.Response.Header.SetContentTypeBytes(value)
				return nil
			}
			ctx.Response.Header.AddBytesKV(name, value)
			return nil
		})
	}
	if !hasCT {
		if len(c.Output) > 0 {
			ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
		} else {
			ctx.Response.Header.SetNoDefaultContentType(true)
		}
	}
	ctx.Response.SetBody(c.Output)
}

// writeError answers a failed request with a short plain-text body that
// names the function and the cause, never host internals. It returns the
// status written.
func (s *Server) writeError(ctx *fasthttp.RequestCtx, function, reqID string, err error) int {
	status, code := statusOf(err)
	ctx.ResetBody()
	ctx.Response.Header.Set("Content-Type", "text/plain; charset=utf-8")
	ctx.Response.Header.Set("X-Wedge-Error", code)
	ctx.SetStatusCode(status)
	fmt.Fprintf(ctx, "function %q failed: %s\n", function, err.Error())
	if reqID != "" {
		fmt.Fprintf(ctx, "request id: %s\n", reqID)
	}
	if status == fasthttp.StatusServiceUnavailable && len(ctx.Response.Header.Peek("Retry-After")) == 0 {
		ctx.Response.Header.Set("Retry-After", "1")
	}
	return status
}

// requestIDs makes unique, cheap request ids: a random node prefix and a
// counter.
type requestIDs struct {
	prefix string
	n      counter
}

func (r *requestIDs) next() string {
	// Built in a stack buffer: one allocation (the string), not two.
	var buf [48]byte
	return string(strconv.AppendUint(append(buf[:0], r.prefix...), r.n.add(), 36))
}

// trafficKey is the value of the request's traffic key (the header or
// cookie a rollout's function names), nil when there is none.
func trafficKey(ctx *fasthttp.RequestCtx, fn *registry.Function) []byte {
	if fn.Stable == nil || fn.Record.TrafficKey == "" {
		return nil
	}
	switch kind, name := registry.TrafficKey(fn.Record.TrafficKey); kind {
	case "header":
		return ctx.Request.Header.Peek(name)
	case "cookie":
		return ctx.Request.Header.Cookie(name)
	}
	return nil
}
