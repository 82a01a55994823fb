package events

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/storage"
)

// ErrInvalidTrigger reports a malformed trigger.
var ErrInvalidTrigger = errors.New("invalid trigger")

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// cronParser accepts 5 fields, or 6 with seconds first, and descriptors
// such as @hourly.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ValidateTrigger checks one trigger of a function.
func ValidateTrigger(t storage.Trigger) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w (%s): %s", ErrInvalidTrigger, t.Kind, fmt.Sprintf(format, args...))
	}
	if t.MaxAttempts < 0 || t.MaxAttempts > abi.MaxMaxAttempts {
		return bad("max_attempts must be between 1 and %d", abi.MaxMaxAttempts)
	}
	if t.Concurrency < 0 {
		return bad("concurrency must not be negative")
	}
	switch t.Kind {
	case KindKV:
		if t.Namespace != "" && !nameRE.MatchString(t.Namespace) {
			return bad("namespace %q: use 1-128 of [A-Za-z0-9._-]", t.Namespace)
		}
		if kv.Reserved(t.Namespace) {
			return bad("namespace %q is reserved for the node", t.Namespace)
		}
	case KindUpload:
		if !nameRE.MatchString(t.Bucket) {
			return bad("bucket %q: use 1-128 of [A-Za-z0-9._-]", t.Bucket)
		}
	case KindSchedule:
		if _, err := cronParser.Parse(t.Cron); err != nil {
			return bad("cron %q: %v", t.Cron, err)
		}
		if _, err := location(t.Timezone); err != nil {
			return bad("timezone %q: %v", t.Timezone, err)
		}
	case KindQueue:
		if !nameRE.MatchString(t.Queue) {
			return bad("queue %q: use 1-128 of [A-Za-z0-9._-]", t.Queue)
		}
		if t.BatchSize < 0 || t.BatchSize > abi.MaxBatchSize {
			return bad("batch_size must be between 1 and %d", abi.MaxBatchSize)
		}
	default:
		return fmt.Errorf("%w: kind %q: use kv, upload, schedule or queue", ErrInvalidTrigger, t.Kind)
	}
	return nil
}

func location(tz string) (*time.Location, error) {
	if tz == "" || strings.EqualFold(tz, "UTC") {
		return time.UTC, nil
	}
	return time.LoadLocation(tz)
}

// maxAttempts is the trigger's attempt budget (default 3).
func maxAttempts(t storage.Trigger) int {
	if t.MaxAttempts <= 0 {
		return abi.DefaultMaxAttempts
	}
	return t.MaxAttempts
}

func batchSize(t storage.Trigger) int {
	if t.Kind != KindQueue || t.BatchSize <= 0 {
		return abi.DefaultBatchSize
	}
	return t.BatchSize
}

// FunctionTriggers is what the manager needs to know of a function.
type FunctionTriggers struct {
	Name        string
	KVNamespace string // the function's own namespace, the default for kv triggers
	Grants      []string
	Triggers    []storage.Trigger
}

// table indexes triggers by kind for matching.
type table struct {
	byFunc map[string]FunctionTriggers
	kv     []ref
	upload map[string][]ref // bucket -> triggers
	queue  map[string][]ref // queue -> consumers
	sched  []ref
}

type ref struct {
	fn  string
	idx int
	t   storage.Trigger
}

func buildTable(fns []FunctionTriggers) *table {
	t := &table{byFunc: map[string]FunctionTriggers{}, upload: map[string][]ref{}, queue: map[string][]ref{}}
	for _, f := range fns {
		t.byFunc[f.Name] = f
		for i, tr := range f.Triggers {
			r := ref{fn: f.Name, idx: i, t: tr}
			switch tr.Kind {
			case KindKV:
				if r.t.Namespace == "" {
					r.t.Namespace = f.KVNamespace
				}
				t.kv = append(t.kv, r)
			case KindUpload:
				t.upload[tr.Bucket] = append(t.upload[tr.Bucket], r)
			case KindQueue:
				t.queue[tr.Queue] = append(t.queue[tr.Queue], r)
			case KindSchedule:
				t.sched = append(t.sched, r)
			}
		}
	}
	return t
}

func (t *table) trigger(fn string, idx int) (storage.Trigger, bool) {
	f, ok := t.byFunc[fn]
	if !ok || idx < 0 || idx >= len(f.Triggers) {
		return storage.Trigger{}, false
	}
	return f.Triggers[idx], true
}
