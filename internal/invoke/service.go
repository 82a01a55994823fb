package invoke

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/logs"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/tracing"
)

// Config sets the node's admission: how many invocations run at once,
// how long and how many may wait, and the memory budget.
type Config struct {
	// MaxConcurrency bounds invocations running at once on the node.
	// Default: DefaultConcurrency(). In adaptive mode it is the ceiling
	// (DefaultConcurrency()x8 when unset).
	MaxConcurrency int
	// Adaptive lets the limit move between MinConcurrency and
	// MaxConcurrency with observed latency.
	Adaptive       bool
	MinConcurrency int
	// QueueWait bounds the wait for a slot (a request that would wait
	// longer is shed on arrival); QueueLen caps the number waiting, for
	// memory. Defaults: 50ms, 16x MaxConcurrency.
	QueueLen  int
	QueueWait time.Duration
	// MemoryBudget bounds the sum of the memory limits of the
	// invocations in flight, in bytes: an invocation whose function's
	// limit does not fit waits or is shed. 0: DefaultMemoryBudget();
	// negative: no budget.
	MemoryBudget int64
}

// Deps are the components an invocation reaches.
type Deps struct {
	Registry *registry.Registry
	// Logs receives a line for every failed invocation (nil: none).
	Logs *logs.Store
	Log  *slog.Logger
	// Tracer records the spans of invocations; nil: tracing off.
	Tracer *tracing.Provider
}

// Service is the node's one invoke path: HTTP requests (the public
// gateway) and event deliveries (internal/node) both run through it.
type Service struct {
	reg     *registry.Registry
	logs    *logs.Store
	log     *slog.Logger
	sched   *Scheduler
	metrics metrics
	tracer  *tracing.Provider // nil: tracing off
}

// New builds the service and its scheduler.
func New(cfg Config, d Deps) *Service {
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = DefaultConcurrency()
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 16 * cfg.MaxConcurrency
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = 50 * time.Millisecond
	}
	if cfg.MemoryBudget == 0 {
		cfg.MemoryBudget = DefaultMemoryBudget()
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	sc := SchedulerConfig{Limit: cfg.MaxConcurrency, QueueLen: cfg.QueueLen, QueueWait: cfg.QueueWait, MemoryBudget: max(0, cfg.MemoryBudget)}
	if cfg.Adaptive {
		if cfg.MaxConcurrency == DefaultConcurrency() {
			cfg.MaxConcurrency *= 8 // the adaptive limit finds its own level below this ceiling
		}
		sc.Adaptive = &Adaptive{Min: max(1, cfg.MinConcurrency), Max: cfg.MaxConcurrency}
		sc.Limit = max(sc.Adaptive.Min, DefaultConcurrency())
	}
	return &Service{reg: d.Registry, logs: d.Logs, log: d.Log, sched: NewScheduler(sc), metrics: newMetrics(), tracer: d.Tracer}
}

// Scheduler is the node's admission control (for its statistics).
func (s *Service) Scheduler() *Scheduler { return s.sched }

// ErrNotDeployed: no live version of the function on this node.
var ErrNotDeployed = errors.New("not deployed on this node")

// ErrShed: admission refused the invocation (the node's slots or memory
// budget are taken, or the function's memory limit exceeds the budget).
// Nothing ran; the caller may hand the work to another node or retry
// later. The error is a *ShedError.
var ErrShed = errors.New("node overloaded")

// ShedError says why admission refused an invocation. It matches
// ErrShed and the scheduler's reason (ErrSaturated, ErrMemoryBudget,
// ErrOverBudget) with errors.Is.
type ShedError struct {
	Reason       error
	MemoryBytes  int64 // the function's memory limit
	MemoryBudget int64 // the node's
}

func (e *ShedError) Error() string {
	switch {
	case errors.Is(e.Reason, ErrOverBudget):
		return fmt.Sprintf("%v: its memory limit (%d MiB) is larger than this node's memory budget (%d MiB)",
			ErrShed, e.MemoryBytes>>20, e.MemoryBudget>>20)
	case errors.Is(e.Reason, ErrMemoryBudget):
		return fmt.Sprintf("%v: the node's memory budget is in use; try again shortly", ErrShed)
	}
	return fmt.Sprintf("%v: the node is at its concurrency limit; try again shortly", ErrShed)
}

func (e *ShedError) Unwrap() []error { return []error{ErrShed, e.Reason} }

// maxRetired bounds the retries of one invocation whose version a deploy
// retired under it.
const maxRetired = 3

// Invoke runs c on the live version of function fn: lookup, admission
// through the node's scheduler, the invocation (retried on the new
// version when a deploy retired the one it started on), a log line for
// a failure, and the per-function counters. c carries the request head
// and body, or the event; on return it holds the response.
//
// It returns an error wrapping ErrNotDeployed, a *ShedError (ErrShed:
// nothing ran), ctx's error if ctx ended before the guest started, or
// the invocation's error (runtime's kinds: ErrTrap, ErrTimeout, ...).
func (s *Service) Invoke(ctx context.Context, fn string, c *runtime.Call) error {
	f, ok := s.reg.Get(fn)
	if !ok {
		return fmt.Errorf("function %q is %w", fn, ErrNotDeployed)
	}
	// During a gradual rollout events split like requests without a key.
	_, err := s.InvokeVersion(ctx, f.Choose(nil), c, nil)
	return err
}

// InvokeVersion is Invoke for a version the caller has found already
// (the gateway's route match). admitted, if not nil, runs once the
// invocation holds its slot, before the guest starts: an error from it
// ends the invocation with that error (the gateway checks there that
// this node still owns a pinned request's key). It returns the version
// that ran last, which differs from f when f was retired.
//
// With tracing on, an event's invocation is a wedge.event span under the
// trace parent in ctx (the work item's), a request's runs under the span
// in ctx (the gateway's wedge.request); admission is a span, and the
// call's instance, guest run and host calls are spans under it
// (runtime.Call.Trace).
func (s *Service) InvokeVersion(ctx context.Context, f *registry.Function, c *runtime.Call, admitted func() error) (_ *registry.Function, err error) {
	name := f.Record.Name
	fm := s.metrics.function(name)
	if err := ctx.Err(); err != nil {
		return f, err
	}
	var admitAt time.Time
	if s.tracer != nil {
		if c.Event != nil {
			var sp tracing.Span
			ctx, sp = s.tracer.Start(ctx, "wedge.event", tracing.KindConsumer, tracing.String("wedge.function", name))
			defer func() { sp.Fail(err); sp.End() }()
		}
		c.Trace = ctx
		admitAt = time.Now()
	}
	ticket, aerr := s.sched.acquire(name, Demand{MaxConcurrency: f.Record.Limits.MaxConcurrency, MemoryBytes: f.Env.Limits.MemoryBytes})
	if s.tracer != nil {
		_, w := s.tracer.StartAt(ctx, "admission", admitAt, tracing.Bool("wedge.admitted", aerr == nil))
		w.End()
	}
	if aerr != nil {
		fm.shed.Add(1)
		return f, &ShedError{Reason: aerr, MemoryBytes: f.Env.Limits.MemoryBytes, MemoryBudget: s.sched.MemoryBudget()}
	}
	defer ticket.Done()
	if admitted != nil {
		if err := admitted(); err != nil {
			return f, err
		}
	}
	for attempt := 0; ; attempt++ {
		c.Env = f.Env
		err = f.Module.Invoke(c)
		// A deploy may retire the version between lookup and invoke; the
		// invocation then runs on the new version, never fails for it.
		if !errors.Is(err, runtime.ErrClosed) || attempt >= maxRetired || ctx.Err() != nil {
			break
		}
		next, ok := s.reg.Get(name)
		if !ok || next == f {
			break
		}
		f = next
		s.metrics.retired.Add(1)
	}
	if err != nil {
		fm.failed.Add(1)
		s.logFailure(f, c, err)
		return f, err
	}
	fm.ok.Add(1)
	return f, nil
}

// logFailure records a failed invocation in the function's logs, with the
// engine's full message for the function's owner.
func (s *Service) logFailure(f *registry.Function, c *runtime.Call, err error) {
	if s.logs == nil {
		return
	}
	msg := err.Error()
	var ge *runtime.GuestError
	if errors.As(err, &ge) && ge.Detail != "" && ge.Detail != ge.Cause {
		msg += "\n" + truncate(ge.Detail, 4096)
	}
	if c.Event != nil {
		msg = "event delivery failed: " + msg
	}
	s.logs.Append(f.Record.Name, c.RequestID, abi.LogError, "wedge", []byte(msg))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
