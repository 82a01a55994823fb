package wedge

import (
	"context"
	"net/http"
	"runtime"
	"sync"

	"github.com/wedge-run/wedge/abi"
)

var (
	handlerMu sync.Mutex
	handler   http.Handler
)

// Handle registers h as the function's HTTP handler; a later call replaces
// an earlier one. Call it from an init function of package main:
//
//	func init() { wedge.Handle(mux) }
//	func main() {} // required by the compiler, never run
//
// A module built with -buildmode=c-shared runs package initialization in
// its _initialize export and never calls main, so a handler registered in
// main is never seen; every request then answers 500 and logs why.
func Handle(h http.Handler) {
	if h == nil {
		panic("wedge: nil handler")
	}
	handlerMu.Lock()
	handler = h
	handlerMu.Unlock()
}

// HandleFunc registers f as the function's HTTP handler, like Handle.
func HandleFunc(f func(http.ResponseWriter, *http.Request)) {
	if f == nil {
		panic("wedge: nil handler")
	}
	Handle(http.HandlerFunc(f))
}

func currentHandler() http.Handler {
	handlerMu.Lock()
	defer handlerMu.Unlock()
	return handler
}

// serve answers one request: wedge_handle's body. It returns 0 when a
// response was produced (whatever its status) and 1 when the host should
// fail the request with 500 instead.
func serve(h host, headLen, bodyLen int32) int32 {
	return serveWith(h, currentHandler, headLen, bodyLen)
}

// serveWith is serve with the handler taken from handler once the request
// is decoded; warm-up passes its own.
func serveWith(h host, handler func() http.Handler, headLen, bodyLen int32) int32 {
	head, err := readHead(h, headLen)
	if err != nil {
		hostLog(h, abi.LogError, "wedge: reading the request head: "+err.Error())
		return 1
	}
	// net/http cancels a request's context when ServeHTTP returns.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := newRequest(ctx, h, head, bodyLen)
	if err != nil {
		hostLog(h, abi.LogError, "wedge: decoding the request head: "+err.Error())
		return 1
	}
	w := newResponse(h)
	if req.URL == nil {
		// The request target does not parse: answer as net/http would.
		hostLog(h, abi.LogWarn, "wedge: malformed request URI "+req.RequestURI)
		return w.plain(http.StatusBadRequest)
	}
	hd := handler()
	if hd == nil {
		if currentEventHandlers().any() {
			hostLog(h, abi.LogError, "wedge: no handler registered for HTTP requests: the module only "+
				"handles events; call wedge.Handle from an init function to serve requests too")
		} else {
			hostLog(h, abi.LogError, "wedge: no handler registered: call wedge.Handle from an init function "+
				"(main is not run in a -buildmode=c-shared module)")
		}
		return w.plain(http.StatusInternalServerError)
	}
	return w.run(hd, req)
}

// run calls the handler, turning a panic into a 500 response.
func (w *response) run(hd http.Handler, req *http.Request) (rc int32) {
	defer func() {
		if v := recover(); v != nil {
			rc = w.recovered(v, req)
		}
	}()
	hd.ServeHTTP(w, req)
	return w.finish()
}

// recovered handles a panic of the handler (or of the SDK finishing its
// response): it logs the panic and its stack, and answers 500 when nothing
// was sent yet. Once part of the response has left, it can no longer be
// replaced, so the request is failed through the return value instead.
func (w *response) recovered(v any, req *http.Request) int32 {
	w.done = true
	if v == http.ErrAbortHandler {
		return 1
	}
	stack := make([]byte, 64<<10)
	stack = stack[:runtime.Stack(stack, false)]
	path := req.RequestURI
	if req.URL != nil {
		path = req.URL.Path // the query may hold secrets
	}
	hostLog(w.h, abi.LogError, "panic serving "+req.Method+" "+path+": "+panicText(v)+"\n\n"+string(stack))
	if w.headSent {
		return 1
	}
	w.buf = w.buf[:0]
	return w.plain(http.StatusInternalServerError)
}
