// Package abi mirrors, for the guest side, the definitions of the host
// package github.com/wedge-run/wedge/abi that the Go SDK needs: the import
// module name, the host function and export names, the error codes, the
// limits and the binary encodings.
//
// The SDK is its own module and cannot import the host module, so this file
// copies those definitions. Every name and value here must be identical to
// the host package's; a host-side test compares the two. Change the host
// package first, then this file, never the other way round.
package abi

import (
	"encoding/binary"
	"errors"
	"time"
)

// Version is the ABI revision this package describes.
const Version = "1.0"

// ImportModule is the name of the host import module for ABI v1.
const ImportModule = "wedge_v1"

// WASIModule is the WASI preview 1 import module the host also provides.
const WASIModule = "wasi_snapshot_preview1"

// Exports a guest may provide.
const (
	ExportMemory = "memory"
	// (func (export "wedge_handle") (param $head_len i32) (param $body_len i32) (result i32))
	ExportHandle = "wedge_handle"
	// (func (export "wedge_event") (param $event_len i32) (result i32))
	ExportEvent      = "wedge_event"
	ExportStart      = "_start"
	ExportInitialize = "_initialize"
)

// Host functions in ImportModule. A result >= 0 is success (usually a
// length), a result < 0 is the negation of an error code.
const (
	// (func (param $buf i32) (param $cap i32) (result i32))
	FnRequestHead = "request_head"
	// (func (param $buf i32) (param $cap i32) (result i32))
	FnRequestBody = "request_body"
	// (func (param $status i32) (param $headers i32) (param $headers_len i32) (result i32))
	FnResponseHead = "response_head"
	// (func (param $buf i32) (param $len i32) (result i32))
	FnResponseWrite = "response_write"
	// (func (param $level i32) (param $msg i32) (param $len i32) (result i32))
	FnLog = "log"
	// (func (param $key i32) (param $key_len i32) (param $buf i32) (param $cap i32) (result i32))
	FnConfigGet = "config_get"
)

// Log levels for FnLog.
const (
	LogDebug int32 = 0
	LogInfo  int32 = 1
	LogWarn  int32 = 2
	LogError int32 = 3
)

// LevelName returns the lower-case name of a log level.
func LevelName(l int32) string {
	switch l {
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warn"
	case LogError:
		return "error"
	}
	return "info"
}

// Key-value host functions in ImportModule. A namespace of length 0 means
// the function's own namespace.
const (
	// (func (param $ns i32) (param $ns_len i32) (param $key i32) (param $key_len i32)
	//       (param $buf i32) (param $cap i32) (param $version_out i32) (result i32))
	FnKVGet = "kv_get"
	// (func (param $ns i32) (param $ns_len i32) (param $key i32) (param $key_len i32)
	//       (param $val i32) (param $val_len i32) (param $ttl_ms i64) (param $if_version i64) (result i64))
	FnKVPut = "kv_put"
	// (func (param $ns i32) (param $ns_len i32) (param $key i32) (param $key_len i32)
	//       (param $if_version i64) (result i32))
	FnKVDelete = "kv_delete"
	// (func (param $ns i32) (param $ns_len i32) (param $key i32) (param $key_len i32)
	//       (param $delta i64) (param $out i32) (result i32))
	FnKVIncrement = "kv_increment"
	// (func (param $ns i32) (param $ns_len i32) (param $prefix i32) (param $prefix_len i32)
	//       (param $cursor i32) (param $cursor_len i32) (param $limit i32)
	//       (param $buf i32) (param $cap i32) (result i32))
	FnKVList = "kv_list"
)

// Event host functions in ImportModule (triggers and asynchronous work).
const (
	// (func (param $buf i32) (param $cap i32) (result i32))
	// Copies the current event envelope (JSON) into buf if it fits;
	// returns its length (size-needed protocol), or -ErrNotFound outside
	// the event entry.
	FnEventGet = "event_get"
	// (func (param $queue i32) (param $queue_len i32) (param $body i32) (param $body_len i32) (result i32))
	// Publishes a message to a queue; returns 0 once it is durably stored.
	FnQueuePublish = "queue_publish"
	// (func (param $bucket i32) (param $bucket_len i32) (param $name i32) (param $name_len i32)
	//       (param $offset i64) (param $buf i32) (param $cap i32) (result i64))
	// Reads up to cap bytes of an uploaded object from offset; returns the
	// number of bytes copied (0 at the end), -ErrNotFound, or -ErrDenied.
	FnObjectRead = "object_read"
)

// Code is an error code returned (negated) by host functions. The list is
// append-only.
type Code int32

// Error codes. Host functions return -Code.
const (
	OK             Code = 0
	ErrNotFound    Code = 1 // no such key, variable or object
	ErrTooLarge    Code = 2 // a value, key or response exceeds its limit
	ErrDenied      Code = 3 // the function's grants do not allow the operation
	ErrInvalid     Code = 4 // a malformed argument (bad encoding, empty key, ...)
	ErrConflict    Code = 5 // compare-and-swap failed: the version changed
	ErrUnsupported Code = 6 // the host does not offer this operation here
	ErrInternal    Code = 7 // the host failed; the request may be retried
	ErrNotCounter  Code = 8 // increment of a value that is not an integer
	ErrBusy        Code = 9 // a limit on concurrent or queued work was reached
)

var codeNames = [...]string{
	OK:             "ok",
	ErrNotFound:    "not found",
	ErrTooLarge:    "too large",
	ErrDenied:      "denied",
	ErrInvalid:     "invalid argument",
	ErrConflict:    "version conflict",
	ErrUnsupported: "unsupported",
	ErrInternal:    "internal error",
	ErrNotCounter:  "not a counter",
	ErrBusy:        "busy",
	ErrTimedOut:    "timed out",
	ErrNetwork:     "network error",
}

// String names the code.
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return "unknown error"
}

// Error makes Code usable as a Go error.
func (c Code) Error() string { return "wedge: " + c.String() }

// Limits that are part of the contract: a guest may rely on them.
const (
	// MaxHeadBytes bounds the encoded request head.
	MaxHeadBytes = 64 << 10
	// MaxLogLine bounds one log line; longer lines are truncated.
	MaxLogLine = 16 << 10
	// MaxKeyLen bounds a key-value key.
	MaxKeyLen = 512
	// MaxValueLen bounds a key-value value.
	MaxValueLen = 1 << 20
	// MaxHeaders bounds the number of response headers.
	MaxHeaders = 256
)

// Encodings, little-endian throughout:
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
//
// Key list page (FnKVList):
//
//	u32    count
//	count × string key
//	string next_cursor  ("" when there is nothing more)
//
// Event envelope (FnEventGet): JSON, not this binary encoding; see the
// host's abi/README.md, "Events".

// ErrMalformed reports an encoding that does not parse.
var ErrMalformed = errors.New("abi: malformed encoding")

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
		return errors.New("abi: too many headers")
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

// Outbound HTTP functions in ImportModule (abi/README.md, "Outbound
// HTTP"). A request goes only to destinations on the function's
// allowed_hosts.
const (
	// (func (param $req i32) (param $req_len i32) (param $body i32) (param $body_len i32) (result i32))
	// Sends the encoded outbound request (EncodeOutboundRequest) with the
	// body [body, body+body_len) and waits for the response head. Returns
	// a handle (>= 1) or -ErrDenied, -ErrInvalid, -ErrTooLarge, -ErrBusy,
	// -ErrTimedOut, -ErrNetwork, -ErrUnsupported.
	FnHTTPSend = "http_send"
	// (func (param $handle i32) (param $buf i32) (param $cap i32) (result i32))
	// Copies the response head (u32 status, header list) into buf if it
	// fits; returns its length (size-needed protocol).
	FnHTTPResponseHead = "http_response_head"
	// (func (param $handle i32) (param $buf i32) (param $cap i32) (result i32))
	// Reads the next bytes of the response body; returns the count, 0 at
	// the end.
	FnHTTPResponseRead = "http_response_read"
	// (func (param $handle i32) (result i32))
	// Releases the response; the handle is invalid afterwards.
	FnHTTPClose = "http_close"
)

// MaxOutboundHandles bounds the responses one invocation holds open.
const MaxOutboundHandles = 16

// Codes added with the outbound HTTP functions (http_*).
const (
	ErrTimedOut Code = 10 // an outbound request ran past its time limit
	ErrNetwork  Code = 11 // an outbound connection, TLS handshake or transfer failed
)

// Function limits: what a deployment may set for one function, and what
// it gets when it sets nothing. This is the one definition: the runtime
// enforces them, the admin API and every deploy on a node refuse values
// outside them (registry's checkLimits), the manifest checker uses them,
// and docs/manifest.md states them (a test in package manifest parses the
// document and compares).
const (
	// DefaultTimeout is a function's wall-clock time limit per invocation.
	DefaultTimeout = 5 * time.Second
	// MaxTimeout is the largest time limit a function may set.
	MaxTimeout = 15 * time.Minute

	// DefaultMemoryMB is a function's linear memory limit, in MiB.
	DefaultMemoryMB = 128
	// MaxMemoryMB is the largest memory limit a function may set, in MiB.
	// The pooling allocator's slots are sized for it, and every node of a
	// cluster must accept the functions the others accept, so it is a
	// constant, not a node setting (docs/RATIONALE.md, "Why is a
	// function's memory limit at most 1 GiB?").
	MaxMemoryMB = 1024

	// DefaultMaxResponseBytes bounds a response body by default.
	DefaultMaxResponseBytes = 8 << 20
	// MaxMaxResponseBytes is the largest response limit a function may set.
	MaxMaxResponseBytes = 1 << 30

	// DefaultTableElements bounds a function's tables (not settable).
	DefaultTableElements = 100_000
	// DefaultMaxLogBytes bounds what one invocation may log (not settable).
	DefaultMaxLogBytes = 256 << 10

	// MinMaxConcurrency is the smallest per-function concurrency cap; 0
	// means only the node-wide limit applies. There is no maximum: the
	// node-wide limit bounds every function.
	MinMaxConcurrency = 0
)

// Event limits: what a trigger and a bucket may set.
const (
	// MaxBatchSize bounds the messages one queue invocation receives.
	MaxBatchSize = 100
	// DefaultBatchSize is a queue trigger's batch size when unset.
	DefaultBatchSize = 1
	// MaxMaxAttempts bounds the deliveries of an event before it is
	// dead-lettered.
	MaxMaxAttempts = 100
	// DefaultMaxAttempts is a trigger's delivery budget when unset.
	DefaultMaxAttempts = 3
	// MaxObjectMB bounds a bucket's object size limit, in MiB.
	MaxObjectMB = 1024
)
