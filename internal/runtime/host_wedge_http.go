package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
	"github.com/wedge-run/wedge/internal/tracing"
)

// The outbound HTTP host functions (abi/README.md, "Outbound HTTP").
// Sending is synchronous: http_send returns once the response head has
// arrived. An invocation may hold several responses open at once
// (abi.MaxOutboundHandles) and read their bodies in any order; every one
// still open is closed when the invocation ends.

func httpFuncs(m map[string]hostSig) {
	m[abi.FnHTTPSend] = sig(kinds(i32, i32, i32, i32), kinds(i32), httpSend)
	m[abi.FnHTTPResponseHead] = sig(kinds(i32, i32, i32), kinds(i32), httpResponseHead)
	m[abi.FnHTTPResponseRead] = sig(kinds(i32, i32, i32), kinds(i32), httpResponseRead)
	m[abi.FnHTTPClose] = sig(kinds(i32), kinds(i32), httpClose)
}

// hopHeaders are request headers a guest may not set: the transport owns
// them.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true, "Host": true,
}

func httpSend(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	mem := c.guestMemory(caller)
	reqb, ok1 := span(mem, a[0].I32(), a[1].I32())
	body, ok2 := span(mem, a[2].I32(), a[3].I32())
	if !ok1 || !ok2 {
		return nil, oob(c, abi.FnHTTPSend)
	}
	env := c.Env
	if env.Outbound == nil || env.OutboundPolicy == nil {
		return c.code(abi.ErrUnsupported), nil
	}
	if len(reqb) > abi.MaxHeadBytes {
		return c.code(abi.ErrTooLarge), nil
	}
	h := http.Header{}
	method, url, timeoutMS, err := abi.DecodeOutboundRequest(reqb, func(name, value []byte) error {
		if !validHeader(name, value) {
			return abi.ErrMalformed
		}
		k := http.CanonicalHeaderKey(string(name))
		if !hopHeaders[k] {
			h.Add(k, string(value))
		}
		return nil
	})
	if errors.Is(err, abi.ErrTooManyHeaders) {
		return c.code(abi.ErrTooLarge), nil
	}
	if err != nil || !validMethod(method) {
		return c.code(abi.ErrInvalid), nil
	}
	p := env.OutboundPolicy
	if c.outSent >= p.MaxRequests {
		c.log(abi.LogWarn, "outbound", []byte(fmt.Sprintf("outbound request refused: the invocation already sent %d requests (its limit)", p.MaxRequests)))
		return c.code(abi.ErrBusy), nil
	}
	slot := -1
	for i, r := range c.outResp {
		if r == nil {
			slot = i
			break
		}
	}
	if slot < 0 {
		if len(c.outResp) >= abi.MaxOutboundHandles {
			return c.code(abi.ErrBusy), nil
		}
		c.outResp = append(c.outResp, nil)
		slot = len(c.outResp) - 1
	}
	c.outSent++
	req := &outbound.Request{
		Method: string(method), URL: string(url), Header: h,
		Body: append([]byte(nil), body...), RequestID: c.RequestID, Deadline: c.deadline,
		Timeout: time.Duration(timeoutMS) * time.Millisecond,
	}
	// A traced invocation's outbound request is a child span, and the
	// peer sees that span as its parent; otherwise the incoming
	// traceparent (if any) is continued with a fresh parent id.
	sctx, sp := c.hostSpan("http.send", req.Method, " ", req.URL)
	if sp.Traced() {
		req.TraceParent = tracing.TraceParent(sctx)
	} else {
		req.TraceParent = traceParent(c)
	}
	start := time.Now()
	resp, err := env.Outbound.Do(context.Background(), p, req)
	if sp.Traced() {
		if resp != nil {
			sp.Set(tracing.Int("http.response.status_code", resp.Status))
		}
		endSpan(sp, err)
	}
	if err != nil {
		if trap := c.outboundDeadline(err); trap != nil {
			return nil, trap
		}
		var de *outbound.DeniedError
		if errors.As(err, &de) {
			why := "it is not on the function's allowed_hosts"
			if errors.Is(err, outbound.ErrBlockedAddr) {
				why = "a private, loopback or reserved address not allowed by address, or the node's admin port"
			}
			c.log(abi.LogWarn, "outbound", []byte(fmt.Sprintf("outbound request refused: %s: %s", de.URL, why)))
		} else {
			c.log(abi.LogDebug, "outbound", []byte(fmt.Sprintf("%s %s failed after %s: %v", method, url, time.Since(start).Round(time.Millisecond), err)))
		}
		return c.code(outboundCode(err)), nil
	}
	c.log(abi.LogDebug, "outbound", []byte(fmt.Sprintf("%s %s -> %d in %s", method, url, resp.Status, time.Since(start).Round(time.Millisecond))))
	c.outResp[slot] = resp
	return c.i32(int32(slot + 1)), nil
}

// traceParent continues the incoming request's trace when it carried a
// traceparent header, or starts a new one.
func traceParent(c *Call) string {
	// The encoded head is scanned only for this one header.
	r := abi.NewReader(c.Head)
	for i := 0; i < 6; i++ {
		r.Bytes()
	}
	n := r.U32()
	for i := uint32(0); i < n && r.Err() == nil; i++ {
		name, value := r.Bytes(), r.Bytes()
		if strings.EqualFold(string(name), "traceparent") && len(value) == 55 {
			v := string(value)
			// Same trace, a new parent id for this hop.
			return v[:36] + outbound.NewSpanID() + v[52:]
		}
	}
	return ""
}

func validMethod(m []byte) bool {
	if len(m) > 32 {
		return false
	}
	for _, ch := range m {
		if ch < 'A' || ch > 'Z' {
			return false
		}
	}
	return true
}

// outboundDeadline turns a timeout at the function's own deadline into
// the same failure as any other time-limit overrun: a trap that answers
// 504. An outbound timeout before it is only an error code.
func (c *Call) outboundDeadline(err error) *wasmtime.Trap {
	if errors.Is(err, outbound.ErrTimeout) && !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		return c.hostTrap(ErrTimeout, fmt.Sprintf("the function ran past its %s time limit (waiting on an outbound request)", c.Env.Limits.Timeout))
	}
	return nil
}

func outboundCode(err error) abi.Code {
	switch {
	case errors.Is(err, outbound.ErrDenied), errors.Is(err, outbound.ErrBlockedAddr):
		return abi.ErrDenied
	case errors.Is(err, outbound.ErrTimeout):
		return abi.ErrTimedOut
	case errors.Is(err, outbound.ErrTooLarge):
		return abi.ErrTooLarge
	case errors.Is(err, outbound.ErrBusy):
		return abi.ErrBusy
	case errors.Is(err, outbound.ErrInvalid):
		return abi.ErrInvalid
	}
	return abi.ErrNetwork
}

func (c *Call) outHandle(h int32) *outbound.Response {
	if h < 1 || int(h) > len(c.outResp) {
		return nil
	}
	return c.outResp[h-1]
}

func httpResponseHead(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	r := c.outHandle(a[0].I32())
	if r == nil {
		if _, ok := span(c.guestMemory(caller), a[1].I32(), a[2].I32()); !ok {
			return nil, oob(c, abi.FnHTTPResponseHead)
		}
		return c.code(abi.ErrInvalid), nil
	}
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	hs := make([]abi.Header, 0, len(names))
	for _, k := range names {
		for _, v := range r.Header[k] {
			hs = append(hs, abi.Header{Name: k, Value: v})
		}
	}
	head := abi.AppendU32(c.scratch[:0], uint32(r.Status))
	head = abi.EncodeHeaders(head, hs)
	c.scratch = head
	return sizeNeeded(c, caller, abi.FnHTTPResponseHead, head, a[1].I32(), a[2].I32())
}

func httpResponseRead(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	dst, ok := span(c.guestMemory(caller), a[1].I32(), a[2].I32())
	if !ok {
		return nil, oob(c, abi.FnHTTPResponseRead)
	}
	r := c.outHandle(a[0].I32())
	if r == nil {
		return c.code(abi.ErrInvalid), nil
	}
	if len(dst) == 0 {
		return c.i32(0), nil
	}
	// Fill as much of dst as the body gives without waiting past what
	// has arrived: one Read, retried while it returns nothing.
	for {
		n, err := r.Read(dst)
		if n > 0 {
			return c.i32(int32(n)), nil
		}
		if err == io.EOF {
			return c.i32(0), nil
		}
		if err != nil {
			if trap := c.outboundDeadline(err); trap != nil {
				return nil, trap
			}
			if errors.Is(err, outbound.ErrTooLarge) {
				c.log(abi.LogWarn, "outbound", []byte(fmt.Sprintf("outbound response refused: over the function's limit of %d bytes", c.Env.OutboundPolicy.MaxResponseBytes)))
			}
			return c.code(outboundCode(err)), nil
		}
	}
}

func httpClose(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	h := a[0].I32()
	r := c.outHandle(h)
	if r == nil {
		return c.code(abi.ErrInvalid), nil
	}
	r.Close()
	c.outResp[h-1] = nil
	return c.i32(0), nil
}

// closeOutbound closes every response the invocation left open.
func (c *Call) closeOutbound() {
	for i, r := range c.outResp {
		if r != nil {
			r.Close()
			c.outResp[i] = nil
		}
	}
	c.outResp = c.outResp[:0]
	c.outSent = 0
}
