package loadgen

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/valyala/fasthttp"
)

// Kinds of transport error counted in Result.Errors.
const (
	ErrKindTimeout           = "timeout"
	ErrKindConnectionRefused = "connection_refused"
	ErrKindConnectionReset   = "connection_reset"
	ErrKindConnectionClosed  = "connection_closed"
	// ErrKindAborted is a request cut off because the run ended (its drain
	// time ran out or ctx was cancelled) before it completed.
	ErrKindAborted = "aborted"
	ErrKindOther   = "other"
)

// classify maps a client error to an ErrKind* constant.
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errDialAfterStop):
		return ErrKindAborted
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout),
		errors.As(err, &ne) && ne.Timeout():
		return ErrKindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrKindConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ErrKindConnectionReset
	case errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return ErrKindConnectionClosed
	default:
		return ErrKindOther
	}
}
