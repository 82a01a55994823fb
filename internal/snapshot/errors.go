package snapshot

import "errors"

var (
	// ErrMalformed reports a module this package cannot decode: truncated
	// input, a bad LEB128, a section that overruns its parent, duplicate
	// sections. Modules are expected to be validated before they reach
	// this package; the decoder only refuses to read past its input.
	ErrMalformed = errors.New("snapshot: malformed module")

	// ErrUnsupported reports a module that is valid WebAssembly but whose
	// initialized state cannot be expressed by rewriting it: an imported
	// or 64-bit or shared memory, more than one memory, an imported
	// mutable global, a mutable global of a vector or reference type, or
	// an encoding newer than this package understands.
	ErrUnsupported = errors.New("snapshot: unsupported module")

	// ErrState reports a State that does not fit the module it is applied
	// to: the wrong number of globals, globals that do not match the
	// module's, or a memory image whose size is not a whole number of pages
	// within the memory's limits.
	ErrState = errors.New("snapshot: state does not match module")
)
