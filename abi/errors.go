package abi

// Code is an error code returned (negated) by host functions. The list is
// append-only: a number, once released, keeps its meaning forever.
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

// Codes added with the outbound HTTP functions (http_*).
const (
	ErrTimedOut Code = 10 // an outbound request ran past its time limit
	ErrNetwork  Code = 11 // an outbound connection, TLS handshake or transfer failed
)
