package wedge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"unsafe"

	"github.com/wedge-run/wedge/abi"
)

// readHead fetches the encoded request head. The host passes its length to
// wedge_handle, so this is normally one host call into a buffer of exactly
// that size; the size-needed protocol covers a mismatch.
func readHead(h host, headLen int32) ([]byte, error) {
	size := max(int(headLen), 0)
	for range 3 {
		buf := make([]byte, size)
		n := h.requestHead(buf)
		if n < 0 {
			return nil, opError("request head", "", int64(n))
		}
		if int(n) <= len(buf) {
			return buf[:n], nil
		}
		size = int(n)
	}
	return nil, errors.New("request head keeps changing size")
}

// requestInfo is what the head says beyond a net/http request. It is
// also the request's context: it answers Value(infoKey{}) with itself and
// leaves everything else (cancellation included) to the context it wraps,
// which saves a context.WithValue per request.
type requestInfo struct {
	context.Context
	id    string
	route string
}

type infoKey struct{}

// Value returns the request info for infoKey and asks the wrapped context
// otherwise.
func (i *requestInfo) Value(key any) any {
	if _, ok := key.(infoKey); ok {
		return i
	}
	return i.Context.Value(key)
}

// newRequest decodes an encoded request head into a server-side
// *http.Request whose body reads from the host and whose context is ctx
// wrapped with the request's id and route. It returns an error only for a
// head that does not decode (a host bug); a request target that does not
// parse yields a request with a nil URL.
func newRequest(ctx context.Context, h host, head []byte, bodyLen int32) (*http.Request, error) {
	// The head buffer is never written again, so the strings alias it.
	r := abi.NewReader(head)
	str := func() string {
		b := r.Bytes()
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	method := str()
	uri := str()
	host := str()
	remoteAddr := str()
	id := str()
	route := str()
	count := r.U32()
	if r.Err() != nil {
		return nil, r.Err()
	}
	if uint64(count)*8 > uint64(r.Len()) { // each header takes at least 8 bytes
		return nil, abi.ErrMalformed
	}
	header := make(http.Header, count)
	// One backing array for every header's values, as net/textproto does:
	// one allocation instead of one per header. Each name's first value
	// gets a full slice of it, so a later append (a repeated name, or the
	// handler's Add) copies instead of overwriting the next header.
	values := make([]string, count)
	for i := range count {
		name := http.CanonicalHeaderKey(str())
		value := str()
		if r.Err() != nil {
			return nil, r.Err()
		}
		if vs, ok := header[name]; ok {
			header[name] = append(vs, value)
			continue
		}
		values[i] = value
		header[name] = values[i : i+1 : i+1]
	}
	// Bytes after the header list are ignored: room for later additions.

	if host == "" {
		host = header.Get("Host")
	}
	delete(header, "Host") // net/http promotes Host to Request.Host

	// Built as a value and handed out by WithContext, whose copy is then
	// the request's only allocation (the value stays on the stack).
	req := http.Request{
		Method:     method,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header,
		Host:       host,
		RemoteAddr: remoteAddr,
		RequestURI: uri,
	}
	if u, err := url.ParseRequestURI(uri); err == nil {
		req.URL = u
	}
	if bodyLen == 0 {
		req.Body = http.NoBody
	} else {
		req.ContentLength = int64(bodyLen)
		if bodyLen < 0 {
			req.ContentLength = -1
		}
		req.Body = &body{h: h, remaining: req.ContentLength}
	}
	return req.WithContext(&requestInfo{Context: ctx, id: id, route: route}), nil
}

// body is a request body that reads from the host on demand, straight into
// the caller's buffer.
type body struct {
	h         host
	remaining int64 // -1: unknown
	eof       bool
	closed    bool
}

const maxBodyRead = 1 << 30

func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.remaining >= 0 && int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	if len(p) > maxBodyRead {
		p = p[:maxBodyRead]
	}
	n := b.h.requestBody(p)
	switch {
	case n < 0:
		return 0, opError("request body", "", int64(n))
	case n == 0:
		b.eof = true
		if b.remaining > 0 {
			return 0, io.ErrUnexpectedEOF
		}
		return 0, io.EOF
	case int(n) > len(p):
		return 0, localError("request body", "", abi.ErrInternal)
	}
	if b.remaining > 0 {
		b.remaining -= int64(n)
		if b.remaining == 0 {
			b.eof = true
			return int(n), io.EOF
		}
	}
	return int(n), nil
}

// Close makes later reads fail; the unread rest stays with the host.
func (b *body) Close() error {
	b.closed = true
	return nil
}
