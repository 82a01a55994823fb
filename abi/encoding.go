package abi

import (
	"encoding/binary"
	"errors"
)

// The binary encodings are built from two primitives, both little-endian:
//
//	u32    four bytes
//	string u32 length followed by that many bytes
//
// Request head (FnRequestHead):
//
//	string method
//	string uri          path and query exactly as received ("/a/b?x=1")
//	string host
//	string remote_addr  "ip:port" of the client
//	string request_id
//	string route        the route pattern that matched ("/api/...")
//	u32    header_count
//	header_count × (string name, string value)   names in canonical form
//
// Header list (FnResponseHead):
//
//	u32    header_count
//	header_count × (string name, string value)

// ErrMalformed reports an encoding that does not parse.
var ErrMalformed = errors.New("abi: malformed encoding")

// ErrTooManyHeaders reports a header list over MaxHeaders entries.
var ErrTooManyHeaders = errors.New("abi: too many headers")

// AppendU32 appends v little-endian.
func AppendU32(dst []byte, v uint32) []byte {
	return binary.LittleEndian.AppendUint32(dst, v)
}

// AppendString appends a length-prefixed string.
func AppendString(dst []byte, s string) []byte {
	dst = AppendU32(dst, uint32(len(s)))
	return append(dst, s...)
}

// AppendBytes appends a length-prefixed byte string.
func AppendBytes(dst []byte, b []byte) []byte {
	dst = AppendU32(dst, uint32(len(b)))
	return append(dst, b...)
}

// Reader decodes the encodings above without copying.
type Reader struct {
	buf []byte
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) Reader { return Reader{buf: b} }

// U32 reads a u32.
func (r *Reader) U32() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.buf) < 4 {
		r.err = ErrMalformed
		return 0
	}
	v := binary.LittleEndian.Uint32(r.buf)
	r.buf = r.buf[4:]
	return v
}

// Bytes reads a length-prefixed byte string, aliasing the input.
func (r *Reader) Bytes() []byte {
	n := r.U32()
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.buf)) {
		r.err = ErrMalformed
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

// String reads a length-prefixed string.
func (r *Reader) String() string { return string(r.Bytes()) }

// Err reports the first decoding error.
func (r *Reader) Err() error { return r.err }

// Len reports the bytes left.
func (r *Reader) Len() int { return len(r.buf) }

// Header is one name/value pair.
type Header struct{ Name, Value string }

// DecodeHeaders parses a header list as written by a guest to
// FnResponseHead. It rejects trailing bytes and more than MaxHeaders entries.
func DecodeHeaders(b []byte, fn func(name, value []byte) error) error {
	r := NewReader(b)
	n := r.U32()
	if r.err != nil {
		return r.err
	}
	if n > MaxHeaders {
		return ErrTooManyHeaders
	}
	for i := uint32(0); i < n; i++ {
		name := r.Bytes()
		value := r.Bytes()
		if r.err != nil {
			return r.err
		}
		if err := fn(name, value); err != nil {
			return err
		}
	}
	if r.Len() != 0 {
		return ErrMalformed
	}
	return nil
}

// EncodeHeaders appends a header list.
func EncodeHeaders(dst []byte, hs []Header) []byte {
	dst = AppendU32(dst, uint32(len(hs)))
	for _, h := range hs {
		dst = AppendString(dst, h.Name)
		dst = AppendString(dst, h.Value)
	}
	return dst
}

// Outbound request (FnHTTPSend):
//
//	string method        "GET"; empty means GET
//	string url           absolute http:// or https:// URL
//	u32    header_count
//	header_count × (string name, string value)
//	u32    timeout_ms    optional: the request's own time limit; absent
//	                     or 0 means the function's outbound timeout
//
// Outbound response head (FnHTTPResponseHead):
//
//	u32    status
//	u32    header_count
//	header_count × (string name, string value)

// EncodeOutboundRequest appends an outbound request (without timeout_ms).
func EncodeOutboundRequest(dst []byte, method, url string, hs []Header) []byte {
	dst = AppendString(dst, method)
	dst = AppendString(dst, url)
	return EncodeHeaders(dst, hs)
}

// DecodeOutboundRequest parses an outbound request; fn sees each header.
// timeoutMS is 0 when the request sets none.
func DecodeOutboundRequest(b []byte, fn func(name, value []byte) error) (method, url []byte, timeoutMS uint32, err error) {
	r := NewReader(b)
	method = r.Bytes()
	url = r.Bytes()
	n := r.U32()
	if r.err != nil {
		return nil, nil, 0, r.err
	}
	if n > MaxHeaders {
		return nil, nil, 0, ErrTooManyHeaders
	}
	for i := uint32(0); i < n; i++ {
		name, value := r.Bytes(), r.Bytes()
		if r.err != nil {
			return nil, nil, 0, r.err
		}
		if err := fn(name, value); err != nil {
			return nil, nil, 0, err
		}
	}
	if r.Len() == 4 {
		timeoutMS = r.U32()
	}
	if r.Len() != 0 {
		return nil, nil, 0, ErrMalformed
	}
	return method, url, timeoutMS, nil
}
