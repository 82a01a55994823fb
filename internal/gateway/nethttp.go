package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"

	"github.com/valyala/fasthttp"
)

// PublicHTTPHandler and AdminHTTPHandler serve the public gateway and the
// admin API as net/http handlers, for a program that mounts them in its
// own server (the public wedge package). Each request is copied into a
// fasthttp request and the response copied back: the node's own
// listeners, served by fasthttp, skip that copy. A streamed response
// (logs with follow) is flushed as it is written.
func (s *Server) PublicHTTPHandler() http.Handler {
	return netHTTP{h: s.public.Handler, maxBody: s.public.MaxRequestBodySize, tooLarge: s.publicError}
}

func (s *Server) AdminHTTPHandler() http.Handler {
	return netHTTP{h: s.admin.Handler, maxBody: s.admin.MaxRequestBodySize, tooLarge: s.adminError}
}

type netHTTP struct {
	h        fasthttp.RequestHandler
	maxBody  int
	tooLarge func(*fasthttp.RequestCtx, error) // the server's ErrorHandler
}

// connection-level headers net/http sets itself.
var skipResponse = [][]byte{[]byte("Content-Length"), []byte("Connection"), []byte("Transfer-Encoding"), []byte("Date")}

func (a netHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req fasthttp.Request
	req.Header.SetMethod(r.Method)
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	req.SetRequestURI(uri)
	req.Header.SetHost(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, remoteAddr(r.RemoteAddr), nil)
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(a.maxBody)+1))
	switch {
	case err != nil:
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	case len(body) > a.maxBody:
		a.tooLarge(&ctx, fasthttp.ErrBodyTooLarge)
	default:
		ctx.Request.SetBodyRaw(body)
		a.h(&ctx)
	}
	for k, v := range ctx.Response.Header.All() {
		if !skipHeader(k) {
			w.Header().Add(string(k), string(v))
		}
	}
	w.WriteHeader(ctx.Response.StatusCode())
	if !ctx.Response.IsBodyStream() {
		w.Write(ctx.Response.Body())
		return
	}
	if err := ctx.Response.BodyWriteTo(flushWriter{w}); err != nil {
		ctx.Response.CloseBodyStream() // the client went away: end the stream's writer
	}
}

func skipHeader(k []byte) bool {
	for _, h := range skipResponse {
		if bytes.EqualFold(k, h) {
			return true
		}
	}
	return false
}

func remoteAddr(s string) net.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return nil
}

// flushWriter sends each write of a streamed body to the client at once.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	if err := http.NewResponseController(f.w).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return n, fmt.Errorf("flush: %w", err)
	}
	return n, nil
}
