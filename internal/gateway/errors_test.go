package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/invoke"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/storage"
)

// TestStatusOf pins the one mapping from errors to HTTP statuses and
// codes: clients and the CLI depend on both.
func TestStatusOf(t *testing.T) {
	guest := func(kind error) error {
		return fmt.Errorf("invoke: %w", &runtime.GuestError{Kind: kind, Cause: "wasm trap: unreachable"})
	}
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{guest(runtime.ErrTimeout), http.StatusGatewayTimeout, "timeout"},
		{guest(runtime.ErrTrap), http.StatusInternalServerError, "trap"},
		{guest(runtime.ErrExit), http.StatusInternalServerError, "exit"},
		{guest(runtime.ErrHandler), http.StatusInternalServerError, "handler_error"},
		{guest(runtime.ErrResponseTooLarge), http.StatusInternalServerError, "response_too_large"},
		{runtime.ErrBusy, http.StatusServiceUnavailable, "overloaded"},
		{&invoke.ShedError{Reason: invoke.ErrSaturated}, http.StatusServiceUnavailable, "overloaded"},
		{&invoke.ShedError{Reason: invoke.ErrOverBudget}, http.StatusServiceUnavailable, "overloaded"},
		{runtime.ErrClosed, http.StatusServiceUnavailable, "replaced"},
		{errInstalling, http.StatusServiceUnavailable, "installing"},
		{fmt.Errorf("compile: %w", runtime.ErrInvalidModule), http.StatusBadRequest, "invalid_module"},
		{fmt.Errorf("x: %w", runtime.ErrUnknownImports), http.StatusBadRequest, "unknown_imports"},
		{runtime.ErrNoEntry, http.StatusBadRequest, "no_entry_point"},
		{registry.ErrInvalidName, http.StatusBadRequest, "invalid_request"},
		{registry.ErrInvalidRoute, http.StatusBadRequest, "invalid_request"},
		{registry.ErrRouteConflict, http.StatusConflict, "route_conflict"},
		{registry.ErrNotFound, http.StatusNotFound, "not_found"},
		{fmt.Errorf("get: %w", storage.ErrNotFound), http.StatusNotFound, "not_found"},
		{kv.ErrNotFound, http.StatusNotFound, "not_found"},
		{kv.ErrVersionConflict, http.StatusConflict, "version_conflict"},
		{kv.ErrValueTooLarge, http.StatusBadRequest, "invalid_request"},
		{kv.ErrClosed, http.StatusServiceUnavailable, "closing"},
		{events.ErrNotFound, http.StatusNotFound, "not_found"},
		{events.ErrMessageTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
		{errTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
		{errBadRequest, http.StatusBadRequest, "invalid_request"},
		{errors.New("something unexpected"), http.StatusInternalServerError, "internal"},
	}
	for _, c := range cases {
		status, code := statusOf(c.err)
		if status != c.status || code != c.code {
			t.Errorf("statusOf(%v) = %d %q, want %d %q", c.err, status, code, c.status, c.code)
		}
	}
}

func TestWriteErrorNamesFunctionAndCause(t *testing.T) {
	s := &Server{}
	var ctx fasthttp.RequestCtx
	err := fmt.Errorf("%w", &runtime.GuestError{Kind: runtime.ErrTrap, Cause: "wasm trap: unreachable",
		Detail: "backtrace at /root/.cargo/registry/src/wasmtime/src/lib.rs:123"})
	status := s.writeError(&ctx, "hello", "req-1", err)
	body := string(ctx.Response.Body())
	if status != 500 || ctx.Response.StatusCode() != 500 {
		t.Fatalf("status %d", status)
	}
	if !strings.Contains(body, `"hello"`) || !strings.Contains(body, "unreachable") || !strings.Contains(body, "req-1") {
		t.Fatalf("body does not name the function, cause and request id: %q", body)
	}
	if strings.Contains(body, "/root/") || strings.Contains(body, "lib.rs") {
		t.Fatalf("body leaks host internals: %q", body)
	}
	if got := string(ctx.Response.Header.Peek("X-Wedge-Error")); got != "trap" {
		t.Fatalf("X-Wedge-Error = %q", got)
	}

	var busy fasthttp.RequestCtx
	if st := s.writeError(&busy, "hello", "", &invoke.ShedError{Reason: invoke.ErrMemoryBudget}); st != 503 {
		t.Fatalf("overloaded: %d", st)
	}
	if ra := string(busy.Response.Header.Peek("Retry-After")); ra == "" {
		t.Fatal("a 503 without Retry-After")
	}
}

// TestWriteResponseDropsHopByHopHeaders: a guest cannot set connection
// level headers, in any letter case.
func TestWriteResponseDropsHopByHopHeaders(t *testing.T) {
	var ctx fasthttp.RequestCtx
	c := &runtime.Call{Status: 201, Output: []byte("made"), Headers: abi.EncodeHeaders(nil, []abi.Header{
		{Name: "X-Custom", Value: "1"},
		{Name: "Connection", Value: "close"},
		{Name: "content-length", Value: "999"},
		{Name: "TRANSFER-ENCODING", Value: "chunked"},
		{Name: "Content-Type", Value: "application/json"},
	})}
	writeResponse(&ctx, c)
	resp := &ctx.Response
	if resp.StatusCode() != 201 || string(resp.Body()) != "made" {
		t.Fatalf("status %d body %q", resp.StatusCode(), resp.Body())
	}
	if string(resp.Header.Peek("X-Custom")) != "1" || string(resp.Header.ContentType()) != "application/json" {
		t.Fatalf("guest headers lost: %s", resp.Header.String())
	}
	if resp.ConnectionClose() || resp.Header.ContentLength() == 999 || string(resp.Header.Peek("Transfer-Encoding")) != "" {
		t.Fatalf("a hop-by-hop header from the guest got through: %s", resp.Header.String())
	}

	var plain fasthttp.RequestCtx
	writeResponse(&plain, &runtime.Call{Status: 200, Output: []byte("text")})
	if ct := string(plain.Response.Header.ContentType()); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("default content type %q", ct)
	}
}
