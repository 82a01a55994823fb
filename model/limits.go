package model

import (
	"errors"
	"fmt"
	"time"

	"github.com/wedge-run/wedge/abi"
)

// MaxOutboundRequests is the largest per-invocation outbound request
// budget a function may set.
const MaxOutboundRequests = 10000

// ErrInvalidLimits reports limits outside their ranges.
var ErrInvalidLimits = errors.New("invalid limits")

// Limits are a function's per-invocation limits. Zero means the node's
// default. Durations are whole milliseconds and sizes bytes, so that the
// JSON form has no units to parse.
type Limits struct {
	// TimeoutMS is the wall-clock time limit of one invocation (at most
	// abi.MaxTimeout).
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// MemoryBytes bounds the guest's linear memory (at most
	// abi.MaxMemoryMB MiB).
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
	// MaxResponseBytes bounds a response body.
	MaxResponseBytes int `json:"max_response_bytes,omitempty"`
	// MaxConcurrency caps the function's concurrent invocations (0: only
	// the node-wide limit applies).
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// OutboundTimeoutMS bounds one outbound HTTP request.
	OutboundTimeoutMS int64 `json:"outbound_timeout_ms,omitempty"`
	// OutboundMaxResponseBytes bounds one outbound response body.
	OutboundMaxResponseBytes int64 `json:"outbound_max_response_bytes,omitempty"`
	// OutboundMaxRequests bounds the outbound requests of one invocation.
	OutboundMaxRequests int `json:"outbound_max_requests,omitempty"`
}

// Timeout is TimeoutMS as a duration.
func (l Limits) Timeout() time.Duration { return time.Duration(l.TimeoutMS) * time.Millisecond }

// OutboundTimeout is OutboundTimeoutMS as a duration.
func (l Limits) OutboundTimeout() time.Duration {
	return time.Duration(l.OutboundTimeoutMS) * time.Millisecond
}

// MemoryMB is MemoryBytes in whole MiB.
func (l Limits) MemoryMB() int { return int(l.MemoryBytes >> 20) }

// Validate refuses limits outside the ranges of package abi (zero means
// the default). It reads them as stored, before any conversion: a huge
// timeout_ms would overflow a time.Duration into a small one.
func (l Limits) Validate() error {
	switch {
	case l.TimeoutMS < 0 || l.TimeoutMS > abi.MaxTimeout.Milliseconds():
		return fmt.Errorf("%w: timeout must be at most %v, got %dms", ErrInvalidLimits, abi.MaxTimeout, l.TimeoutMS)
	case l.MemoryBytes < 0 || l.MemoryBytes > abi.MaxMemoryMB<<20:
		return fmt.Errorf("%w: memory must be between 1 and %d MiB, got %d MiB", ErrInvalidLimits, abi.MaxMemoryMB, l.MemoryBytes>>20)
	case l.MaxResponseBytes < 0 || l.MaxResponseBytes > abi.MaxMaxResponseBytes:
		return fmt.Errorf("%w: max response bytes must be between 1 and %d, got %d", ErrInvalidLimits, abi.MaxMaxResponseBytes, l.MaxResponseBytes)
	case l.OutboundTimeoutMS < 0 || l.OutboundTimeoutMS > abi.MaxTimeout.Milliseconds():
		return fmt.Errorf("%w: outbound timeout must be at most %v, got %dms", ErrInvalidLimits, abi.MaxTimeout, l.OutboundTimeoutMS)
	case l.OutboundMaxResponseBytes < 0 || l.OutboundMaxResponseBytes > abi.MaxMaxResponseBytes:
		return fmt.Errorf("%w: outbound max response bytes must be between 1 and %d, got %d", ErrInvalidLimits, abi.MaxMaxResponseBytes, l.OutboundMaxResponseBytes)
	case l.OutboundMaxRequests < 0 || l.OutboundMaxRequests > MaxOutboundRequests:
		return fmt.Errorf("%w: outbound max requests must be between 1 and %d, got %d", ErrInvalidLimits, MaxOutboundRequests, l.OutboundMaxRequests)
	case l.MaxConcurrency < abi.MinMaxConcurrency:
		return fmt.Errorf("%w: max concurrency must be at least %d, got %d", ErrInvalidLimits, abi.MinMaxConcurrency, l.MaxConcurrency)
	}
	return nil
}
