package wedge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wedge-run/wedge/abi"
)

// httpHost is the seam to the outbound HTTP host calls (http_wasip1.go);
// outside wasip1 every call answers "unsupported", and tests replace it.
type httpHost interface {
	send(req, body []byte) int32
	responseHead(h int32, buf []byte) int32
	responseRead(h int32, buf []byte) int32
	close(h int32) int32
}

type noHTTP struct{}

func (noHTTP) send([]byte, []byte) int32        { return -int32(abi.ErrUnsupported) }
func (noHTTP) responseHead(int32, []byte) int32 { return -int32(abi.ErrUnsupported) }
func (noHTTP) responseRead(int32, []byte) int32 { return -int32(abi.ErrUnsupported) }
func (noHTTP) close(int32) int32                { return 0 }

var httpSys httpHost = noHTTP{}

// Errors of outbound requests, besides ErrDenied (the destination is not
// on the function's allowed_hosts, or is a private address not allowed by
// address), ErrTooLarge (the response is over the function's limit) and
// ErrBusy (a limit on requests was reached).
var (
	ErrTimedOut = errors.New("wedge: timed out")     // the request ran past its time limit
	ErrNetwork  = errors.New("wedge: network error") // connection, TLS or transfer failure
)

// Transport is an http.RoundTripper that sends requests through the wedge
// host (abi/README.md, "Outbound HTTP"). In a wasip1 build, importing the
// SDK installs it as http.DefaultTransport, so http.Get and http.Client
// just work. A request's context deadline becomes its time limit on the
// host (which also stops it at the function's own deadline).
type Transport struct{}

// RoundTrip sends one request and returns once its head has arrived; the
// body streams from the host as it is read.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if req.Body != nil {
		defer req.Body.Close()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req.URL == nil {
		return nil, errors.New("wedge: http request without a URL")
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
	}
	hs := make([]abi.Header, 0, len(req.Header)+1)
	for k, vs := range req.Header {
		for _, v := range vs {
			hs = append(hs, abi.Header{Name: k, Value: v})
		}
	}
	if req.Host != "" && req.Host != req.URL.Host {
		hs = append(hs, abi.Header{Name: "Host", Value: req.Host}) // dropped by the host: it owns Host
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	enc := abi.EncodeOutboundRequest(nil, method, req.URL.String(), hs)
	if dl, ok := ctx.Deadline(); ok {
		ms := time.Until(dl).Milliseconds()
		if ms <= 0 {
			return nil, context.DeadlineExceeded
		}
		enc = abi.AppendU32(enc, uint32(min(ms, 1<<31)))
	}
	h := httpSys.send(enc, body)
	if h < 0 {
		return nil, httpErr(ctx, "http send", req.URL.Redacted(), h)
	}
	resp, err := readOutboundHead(h, req)
	if err != nil {
		httpSys.close(h)
		return nil, err
	}
	return resp, nil
}

func readOutboundHead(h int32, req *http.Request) (*http.Response, error) {
	buf := make([]byte, 4096)
	for {
		n := httpSys.responseHead(h, buf)
		if n < 0 {
			return nil, httpErr(req.Context(), "http response head", req.URL.Redacted(), n)
		}
		if int(n) <= len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, n)
	}
	r := abi.NewReader(buf)
	status := int(r.U32())
	header := http.Header{}
	n := r.U32()
	for i := uint32(0); i < n && r.Err() == nil; i++ {
		k, v := r.String(), r.String()
		header.Add(k, v)
	}
	if r.Err() != nil {
		return nil, errors.New("wedge: malformed response head from the host")
	}
	resp := &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		ContentLength: -1,
		Request:       req,
		Body:          &hostBody{h: h, ctx: req.Context(), url: req.URL.Redacted()},
	}
	if cl, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil {
		resp.ContentLength = cl
	}
	if req.Method == http.MethodHead {
		resp.Body.Close()
		resp.Body = http.NoBody
	}
	return resp, nil
}

// hostBody streams a response body from the host.
type hostBody struct {
	h    int32
	ctx  context.Context
	url  string
	once sync.Once
	done bool
	err  error
}

func (b *hostBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.done {
		return 0, io.EOF
	}
	if err := b.ctx.Err(); err != nil {
		b.err = err
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := httpSys.responseRead(b.h, p)
	switch {
	case n < 0:
		b.err = httpErr(b.ctx, "http response read", b.url, n)
		return 0, b.err
	case n == 0:
		b.done = true
		return 0, io.EOF
	}
	return int(n), nil
}

func (b *hostBody) Close() error {
	b.once.Do(func() { httpSys.close(b.h) })
	return nil
}

// httpErr maps a host error code; a timeout when the context's deadline
// has passed is reported as context.DeadlineExceeded, as net/http does.
func httpErr(ctx context.Context, op, url string, rc int32) error {
	code := abi.Code(-rc)
	if code == abi.ErrTimedOut {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The guest's timers cannot fire while it waits in the host:
		// the deadline may have passed without ctx knowing yet.
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 10*time.Millisecond {
			return context.DeadlineExceeded
		}
	}
	e := &OpError{Op: op, Key: url, Code: int32(code)}
	switch code {
	case abi.ErrTimedOut:
		e.Err = ErrTimedOut
	case abi.ErrNetwork:
		e.Err = ErrNetwork
	default:
		e.Err = sentinel(code)
	}
	return e
}
