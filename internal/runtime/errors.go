package runtime

import (
	"errors"
	"fmt"
)

// Deploy-time errors. Each is wrapped with a message that says what exactly
// is wrong; errors.Is works on the sentinel.
var (
	// ErrInvalidModule: the bytes are not a valid WebAssembly module.
	ErrInvalidModule = errors.New("invalid module")
	// ErrUnknownImports: the module imports something the host does not provide.
	ErrUnknownImports = errors.New("unknown imports")
	// ErrNoEntry: the module exports neither wedge_handle nor _start.
	ErrNoEntry = errors.New("no entry point")
	// ErrOverLimits: the module declares more than the function's limits
	// allow (a memory minimum above its memory limit): every request
	// would fail, so it is refused at deploy.
	ErrOverLimits = errors.New("module exceeds the function's limits")
)

// Invocation errors. The gateway maps them to statuses: ErrTimeout to 504,
// ErrBusy to 503, the rest to 500.
var (
	// ErrTrap: the guest trapped (unreachable, out-of-bounds access, stack
	// overflow, memory limit, a host call with a bad pointer ...).
	ErrTrap = errors.New("guest trapped")
	// ErrTimeout: the guest ran past its time limit and was interrupted.
	ErrTimeout = errors.New("time limit exceeded")
	// ErrExit: the guest called proc_exit with a failing code.
	ErrExit = errors.New("guest exited")
	// ErrHandler: the native entry returned a non-zero value.
	ErrHandler = errors.New("handler failed")
	// ErrResponseTooLarge: the guest wrote more than its response limit.
	ErrResponseTooLarge = errors.New("response too large")
	// ErrBusy: no instance slot was available.
	ErrBusy = errors.New("no instance available")
	// ErrClosed: the module was retired.
	ErrClosed = errors.New("module closed")
)

// GuestError describes a failed invocation: Kind is one of the sentinels
// above, Cause a short, client-safe explanation. Detail holds the full
// engine message (with backtrace) for the logs only.
type GuestError struct {
	Kind   error
	Cause  string
	Detail string
}

func (e *GuestError) Error() string {
	if e.Cause == "" {
		return e.Kind.Error()
	}
	return fmt.Sprintf("%s: %s", e.Kind.Error(), e.Cause)
}

func (e *GuestError) Unwrap() error { return e.Kind }

func guestErr(kind error, cause, detail string) *GuestError {
	return &GuestError{Kind: kind, Cause: cause, Detail: detail}
}
