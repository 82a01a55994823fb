package runtime

import (
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/model"
)

// Limits bound one invocation of a function: the execution side of
// model.Limits, with every default applied (LimitsFrom), plus the bounds
// a function cannot set.
type Limits struct {
	// Timeout is the wall-clock time an invocation may take, including
	// time spent sleeping in poll_oneoff. Default 5s.
	Timeout time.Duration
	// MemoryBytes bounds the guest's linear memory. Default 128 MiB.
	MemoryBytes int64
	// TableElements bounds the guest's tables. Default 100,000.
	TableElements int64
	// MaxResponseBytes bounds the response body. Default 8 MiB.
	MaxResponseBytes int
	// MaxLogBytes bounds what one invocation may log; the rest is dropped
	// and counted. Default 256 KiB.
	MaxLogBytes int
}

// DefaultLimits are the limits a function gets unless it sets its own
// (the values of package abi).
func DefaultLimits() Limits {
	return Limits{
		Timeout:          abi.DefaultTimeout,
		MemoryBytes:      abi.DefaultMemoryMB << 20,
		TableElements:    abi.DefaultTableElements,
		MaxResponseBytes: abi.DefaultMaxResponseBytes,
		MaxLogBytes:      abi.DefaultMaxLogBytes,
	}
}

// LimitsFrom derives the limits an invocation runs under from a
// function's: its values, and the defaults for the zero ones.
func LimitsFrom(l model.Limits) Limits {
	return Limits{Timeout: l.Timeout(), MemoryBytes: l.MemoryBytes, MaxResponseBytes: l.MaxResponseBytes}.WithDefaults()
}

// WithDefaults fills zero fields from DefaultLimits.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = d.MemoryBytes
	}
	if l.TableElements <= 0 {
		l.TableElements = d.TableElements
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = d.MaxResponseBytes
	}
	if l.MaxLogBytes <= 0 {
		l.MaxLogBytes = d.MaxLogBytes
	}
	return l
}

// Config configures the Engine.
type Config struct {
	// CacheDir holds compiled artifacts. Empty disables the disk cache.
	CacheDir string
	// CollectArtifacts lets the engine delete from CacheDir the artifacts
	// no live version uses (see Engine.KeepArtifacts). Set it only when
	// the engine owns the directory: engines sharing one (tests, the
	// benchmark suite's cache) would delete each other's artifacts.
	CollectArtifacts bool
	// EpochTick is the resolution of time limits. Default 2ms.
	EpochTick time.Duration
	// MaxModuleBytes bounds a module's size at deploy. Default 64 MiB.
	MaxModuleBytes int
	// NoPooling turns off wasmtime's pooling instance allocator (on by
	// default): instances then map and unmap their memory per request.
	NoPooling bool
	// SplitOnly keeps modules with shared code (Engine.ShareCode) split
	// for good instead of compiling them whole in the background; for
	// tests and measurements of the split path.
	SplitOnly bool
	// PoolInstances is the number of instance slots the pool reserves;
	// at most this many instances exist at once. Default 1000.
	PoolInstances int
}

// MaxMemoryLimit is the largest memory limit a function may set, in
// bytes (abi.MaxMemoryMB): the pooling allocator reserves slots of this
// size.
const MaxMemoryLimit = abi.MaxMemoryMB << 20

func (c Config) withDefaults() Config {
	if c.EpochTick <= 0 {
		c.EpochTick = 2 * time.Millisecond
	}
	if c.MaxModuleBytes <= 0 {
		c.MaxModuleBytes = 64 << 20
	}
	if c.PoolInstances <= 0 {
		c.PoolInstances = 1000
	}
	return c
}
