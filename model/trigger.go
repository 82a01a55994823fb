package model

import (
	"errors"
	"fmt"

	"github.com/wedge-run/wedge/abi"
)

// Trigger kinds.
const (
	KindKV       = "kv"       // a key in a namespace changed
	KindUpload   = "upload"   // an object was stored in a bucket
	KindSchedule = "schedule" // a cron schedule fired
	KindQueue    = "queue"    // messages arrived on a queue
)

// Kinds lists the trigger kinds in the order the documentation uses.
var Kinds = []string{KindKV, KindUpload, KindSchedule, KindQueue}

// Trigger defaults.
const (
	DefaultTimezone    = "UTC"
	DefaultBatchSize   = abi.DefaultBatchSize
	DefaultMaxAttempts = abi.DefaultMaxAttempts
)

// ErrInvalidTrigger reports a malformed trigger.
var ErrInvalidTrigger = errors.New("invalid trigger")

// Trigger is one event source of a function. Only the fields of its Kind
// are set; the others are zero.
type Trigger struct {
	// Kind is one of KindKV, KindUpload, KindSchedule, KindQueue.
	Kind string `json:"kind"`

	// Namespace (kv) is the namespace watched; empty: the function's own.
	Namespace string `json:"namespace,omitempty"`
	// Prefix (kv) restricts the trigger to keys starting with it; empty
	// watches the whole namespace.
	Prefix string `json:"prefix,omitempty"`

	// Bucket (upload) is the bucket watched.
	Bucket string `json:"bucket,omitempty"`

	// Cron (schedule) is a cron expression (ParseCron).
	Cron string `json:"cron,omitempty"`
	// Timezone (schedule) is the IANA zone Cron is read in; empty: UTC.
	Timezone string `json:"timezone,omitempty"`

	// Queue (queue) is the queue consumed.
	Queue string `json:"queue,omitempty"`
	// BatchSize (queue) is the most messages one invocation receives
	// (1..abi.MaxBatchSize; 0: DefaultBatchSize).
	BatchSize int `json:"batch_size,omitempty"`
	// MaxAttempts is how many times an event is delivered before it is
	// dead-lettered (1..abi.MaxMaxAttempts; 0: DefaultMaxAttempts).
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Concurrency caps the invocations this trigger runs at once (0: no
	// cap beyond the function's and the node's).
	Concurrency int `json:"concurrency,omitempty"`
}

// Attempts is the trigger's delivery budget: MaxAttempts, or the default.
func (t Trigger) Attempts() int {
	if t.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return t.MaxAttempts
}

// Batch is the most messages one invocation receives: BatchSize for a
// queue trigger, or the default.
func (t Trigger) Batch() int {
	if t.Kind != KindQueue || t.BatchSize <= 0 {
		return DefaultBatchSize
	}
	return t.BatchSize
}

// Validate checks a trigger as stored (zero fields mean the defaults).
func (t Trigger) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w (%s): %s", ErrInvalidTrigger, t.Kind, fmt.Sprintf(format, args...))
	}
	if t.MaxAttempts < 0 || t.MaxAttempts > abi.MaxMaxAttempts {
		return bad("max_attempts must be between 1 and %d", abi.MaxMaxAttempts)
	}
	if t.Concurrency < 0 {
		return bad("concurrency must not be negative")
	}
	const rule = "use 1-128 of [A-Za-z0-9._-], not . or .."
	switch t.Kind {
	case KindKV:
		if t.Namespace != "" && !ValidResourceName(t.Namespace) {
			return bad("namespace %q: %s", t.Namespace, rule)
		}
		if len(t.Prefix) > abi.MaxKeyLen {
			return bad("prefix longer than %d bytes (the longest key)", abi.MaxKeyLen)
		}
	case KindUpload:
		if !ValidResourceName(t.Bucket) {
			return bad("bucket %q: %s", t.Bucket, rule)
		}
	case KindSchedule:
		tz := t.Timezone
		if tz == "" {
			tz = DefaultTimezone
		}
		loc, err := LoadLocation(tz)
		if err != nil {
			return bad("timezone %q: %v", t.Timezone, err)
		}
		if _, err := ParseCron(t.Cron, loc); err != nil {
			return bad("cron %q: %v", t.Cron, err)
		}
	case KindQueue:
		if !ValidResourceName(t.Queue) {
			return bad("queue %q: %s", t.Queue, rule)
		}
		if t.BatchSize < 0 || t.BatchSize > abi.MaxBatchSize {
			return bad("batch_size must be between 1 and %d", abi.MaxBatchSize)
		}
	default:
		return fmt.Errorf("%w: kind %q: use kv, upload, schedule or queue", ErrInvalidTrigger, t.Kind)
	}
	return nil
}
