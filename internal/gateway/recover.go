package gateway

import (
	"bufio"
	"fmt"
	"runtime/debug"

	"github.com/valyala/fasthttp"
)

// fasthttp, unlike net/http, does not recover a panicking handler: the
// panic ends the process, and with it every request in flight and every
// function the node serves. Both servers' handlers, and the body stream
// writers handlers start, run under these wrappers instead: a panic
// becomes a 500 carrying a request id, and the node log gets the id, the
// request line and the stack.

// recovering wraps h so that a panic in it answers 500 instead of ending
// the process. server names the server in the log ("public", "admin").
func (s *Server) recovering(server string, h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		defer func() {
			if v := recover(); v != nil {
				s.recovered(server, ctx, v)
			}
		}()
		h(ctx)
	}
}

// recovered logs a handler's panic and replaces whatever the handler had
// written with a 500. The request id is the one the handler had already
// given the request (public requests that reached a function have one),
// else a new one.
func (s *Server) recovered(server string, ctx *fasthttp.RequestCtx, v any) {
	s.metrics.panics.Add(1)
	id := string(ctx.Response.Header.Peek("X-Request-Id"))
	if id == "" {
		id = s.ids.next()
	}
	s.log.Error("handler panicked; answered 500", "server", server, "request_id", id,
		"method", string(ctx.Method()), "path", string(ctx.Path()),
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	ctx.Response.Reset()
	ctx.Response.Header.Set("X-Request-Id", id)
	ctx.Response.Header.Set("X-Wedge-Error", "internal")
	if server == "admin" {
		writeJSON(ctx, fasthttp.StatusInternalServerError, map[string]string{
			"error": "internal error: the node failed while handling this request (request id " + id + ")",
			"code":  "internal", "request_id": id,
		})
		return
	}
	ctx.SetStatusCode(fasthttp.StatusInternalServerError)
	ctx.SetContentType("text/plain; charset=utf-8")
	fmt.Fprintf(ctx, "internal error: the node failed while handling this request\nrequest id: %s\n", id)
}

// recoveringStream wraps a body stream writer, which fasthttp runs on a
// goroutine of its own: the response head is already sent, so a panic
// only ends the stream, and is logged.
func (s *Server) recoveringStream(what string, w func(*bufio.Writer)) func(*bufio.Writer) {
	return func(bw *bufio.Writer) {
		defer func() {
			if v := recover(); v != nil {
				s.metrics.panics.Add(1)
				s.log.Error("body stream panicked; ended the response", "stream", what,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			}
		}()
		w(bw)
	}
}
