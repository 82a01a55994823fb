package abi

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
