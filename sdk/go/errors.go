package wedge

import (
	"errors"
	"strconv"

	"github.com/wedge-run/wedge/abi"
)

// Errors reported by the host. Every error an SDK function returns for a
// host error code wraps exactly one of these, so errors.Is works:
//
//	v, _, err := wedge.KV("").Get("user/7")
//	if errors.Is(err, wedge.ErrNotFound) { ... }
var (
	ErrNotFound    = errors.New("wedge: not found")        // no such key, variable or object
	ErrTooLarge    = errors.New("wedge: too large")        // a value, key, header list or response exceeds its limit
	ErrDenied      = errors.New("wedge: denied")           // the function's grants do not allow the operation
	ErrInvalid     = errors.New("wedge: invalid argument") // a malformed argument: empty key, bad status, ...
	ErrConflict    = errors.New("wedge: version conflict") // a conditional write failed: the version changed
	ErrUnsupported = errors.New("wedge: unsupported")      // the host does not offer this operation here
	ErrInternal    = errors.New("wedge: internal error")   // the host failed; retrying may succeed
	ErrNotCounter  = errors.New("wedge: not a counter")    // increment of a value that is not an integer
	ErrBusy        = errors.New("wedge: busy")             // a limit on concurrent or queued work was reached
)

// sentinel maps an ABI error code to its sentinel; nil for codes this SDK
// does not know (a newer host may add codes).
func sentinel(c abi.Code) error {
	switch c {
	case abi.ErrNotFound:
		return ErrNotFound
	case abi.ErrTooLarge:
		return ErrTooLarge
	case abi.ErrDenied:
		return ErrDenied
	case abi.ErrInvalid:
		return ErrInvalid
	case abi.ErrConflict:
		return ErrConflict
	case abi.ErrUnsupported:
		return ErrUnsupported
	case abi.ErrInternal:
		return ErrInternal
	case abi.ErrNotCounter:
		return ErrNotCounter
	case abi.ErrBusy:
		return ErrBusy
	}
	return nil
}

// OpError describes a failed host operation. It wraps one of the Err*
// sentinels (or none, for an error code this SDK does not know).
type OpError struct {
	Op   string // "kv get", "kv put", "response write", ...
	Key  string // the key or name involved, if any
	Code int32  // the ABI error code (positive)
	Err  error  // the sentinel, or nil for an unknown code
}

func (e *OpError) Error() string {
	s := "wedge: " + e.Op
	if e.Key != "" {
		s += " " + strconv.Quote(e.Key)
	}
	if e.Err != nil {
		return s + ": " + abi.Code(e.Code).String()
	}
	return s + ": host error " + strconv.Itoa(int(e.Code))
}

// Unwrap returns the sentinel.
func (e *OpError) Unwrap() error { return e.Err }

// opError turns a negative host result into an *OpError.
func opError(op, key string, rc int64) error {
	code := -rc
	if code <= 0 || code > 1<<31-1 {
		// A result that is neither success nor a valid code: a host bug.
		return &OpError{Op: op, Key: key, Code: int32(abi.ErrInternal), Err: ErrInternal}
	}
	return &OpError{Op: op, Key: key, Code: int32(code), Err: sentinel(abi.Code(code))}
}

// localError reports a check the SDK makes itself, before any host call,
// with the same code the host would answer.
func localError(op, key string, c abi.Code) error {
	return &OpError{Op: op, Key: key, Code: int32(c), Err: sentinel(c)}
}
