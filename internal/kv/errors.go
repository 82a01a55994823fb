package kv

import "errors"

// Errors returned by the store. They are wrapped with %w and a message
// naming the namespace and key involved: test for them with errors.Is.
var (
	// ErrNotFound: the key does not exist, was deleted or has expired.
	ErrNotFound = errors.New("kv: key not found")
	// ErrKeyTooLarge: the key is longer than MaxKeyLen bytes.
	ErrKeyTooLarge = errors.New("kv: key too large")
	// ErrValueTooLarge: the value is longer than MaxValueLen bytes.
	ErrValueTooLarge = errors.New("kv: value too large")
	// ErrInvalidKey: the key is empty or not valid UTF-8.
	ErrInvalidKey = errors.New("kv: invalid key")
	// ErrInvalidNamespace: the namespace name breaks the rules of
	// ValidNamespace.
	ErrInvalidNamespace = errors.New("kv: invalid namespace")
	// ErrVersionConflict: a compare-and-swap expected a version the key
	// does not have; nothing was changed.
	ErrVersionConflict = errors.New("kv: version conflict")
	// ErrNotCounter: Increment found a value that is not a base-10 int64.
	ErrNotCounter = errors.New("kv: value is not an integer counter")
	// ErrCounterOverflow: Increment would overflow int64; nothing was
	// changed.
	ErrCounterOverflow = errors.New("kv: counter overflow")
	// ErrInvalidCursor: a List cursor was not produced by List for the
	// same prefix.
	ErrInvalidCursor = errors.New("kv: invalid cursor")
	// ErrInvalidTTL: a negative TTL.
	ErrInvalidTTL = errors.New("kv: invalid TTL")
	// ErrInvalidChange: ApplyRemote was given a malformed Change.
	ErrInvalidChange = errors.New("kv: invalid change")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("kv: store closed")
	// errCorrupt: a stored record could not be decoded.
	errCorrupt = errors.New("kv: corrupt record")
)
