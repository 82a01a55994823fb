package abi

import "time"

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
