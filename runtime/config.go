package runtime

import (
	"errors"
	"time"
)

// Limits bound one invocation of a function.
type Limits struct {
	// Timeout is the wall-clock time an invocation may take, including
	// time spent sleeping in poll_oneoff. Default 5s.
	Timeout time.Duration `json:"timeout_ms"`
	// MemoryBytes bounds the guest's linear memory. Default 128 MiB.
	MemoryBytes int64 `json:"memory_bytes"`
	// TableElements bounds the guest's tables. Default 100,000.
	TableElements int64 `json:"table_elements"`
	// MaxResponseBytes bounds the response body. Default 8 MiB.
	MaxResponseBytes int `json:"max_response_bytes"`
	// MaxLogBytes bounds what one invocation may log; the rest is dropped
	// and counted. Default 256 KiB.
	MaxLogBytes int `json:"max_log_bytes"`
}

// DefaultLimits are the limits a function gets unless it sets its own.
func DefaultLimits() Limits {
	return Limits{
		Timeout:          5 * time.Second,
		MemoryBytes:      128 << 20,
		TableElements:    100_000,
		MaxResponseBytes: 8 << 20,
		MaxLogBytes:      256 << 10,
	}
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

// Validate rejects limits no node should accept.
func (l Limits) Validate() error {
	switch {
	case l.Timeout < 0 || l.Timeout > 15*time.Minute:
		return errors.New("timeout must be between 0 and 15m")
	case l.MemoryBytes < 0 || l.MemoryBytes > MaxMemoryLimit:
		return errors.New("memory must be between 0 and 1024 MiB")
	case l.MaxResponseBytes < 0 || l.MaxResponseBytes > 1<<30:
		return errors.New("max response must be between 0 and 1 GiB")
	}
	return nil
}

// Config configures the Engine.
type Config struct {
	// CacheDir holds compiled artifacts. Empty disables the disk cache.
	CacheDir string
	// EpochTick is the resolution of time limits. Default 2ms.
	EpochTick time.Duration
	// MaxModuleBytes bounds a module's size at deploy. Default 64 MiB.
	MaxModuleBytes int
	// NoPooling turns off wasmtime's pooling instance allocator (on by
	// default): instances then map and unmap their memory per request.
	NoPooling bool
	// PoolInstances is the number of instance slots the pool reserves;
	// at most this many instances exist at once. Default 1000.
	PoolInstances int
}

// MaxMemoryLimit is the largest memory limit a function may set: the
// pooling allocator reserves slots of this size.
const MaxMemoryLimit = 1 << 30

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
