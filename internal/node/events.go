package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/gateway"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/storage"
	"github.com/wedge-run/wedge/internal/tracing"
)

// invoker runs event deliveries through the same path as HTTP requests:
// the function's live version, the node's scheduler, a fresh instance.
type invoker struct {
	n   *Node
	seq atomic.Uint64
}

func (iv *invoker) InvokeEvent(ctx context.Context, function string, event []byte) (err error) {
	n := iv.n
	if !n.ready.Load() {
		return events.ErrBusy // still starting
	}
	f, ok := n.Registry.Get(function)
	if !ok {
		return fmt.Errorf("function %q is not deployed on this node", function)
	}
	ticket, aerr := n.Gateway.Scheduler().Acquire(function, gateway.Demand{MaxConcurrency: f.Record.Limits.MaxConcurrency, MemoryBytes: f.Env.Limits.MemoryBytes})
	if aerr != nil {
		return events.ErrBusy
	}
	defer ticket.Done()
	c := runtime.NewCall()
	defer c.Release()
	c.Env = f.Env
	c.Event = event
	c.RequestID = "ev-" + strconv.FormatUint(iv.seq.Add(1), 36)
	if n.Tracer != nil {
		// The delivery continues the trace of the write or publish that
		// caused it (its traceparent rode in the work item).
		var sp tracing.Span
		c.Trace, sp = n.Tracer.Start(ctx, "wedge.event", tracing.KindConsumer,
			tracing.String("wedge.function", function), tracing.String("wedge.node", n.Config.NodeName))
		defer func() { sp.Fail(err); sp.End() }()
	}
	err = f.Module.Invoke(c)
	if err != nil && n.Logs != nil {
		n.Logs.Append(function, c.RequestID, abi.LogError, "wedge", []byte("event delivery failed: "+err.Error()))
	}
	if errors.Is(err, runtime.ErrBusy) {
		return events.ErrBusy
	}
	return err
}

// eventsBackend adapts the events manager to the runtime's host functions.
type eventsBackend struct{ m *events.Manager }

func (b eventsBackend) Publish(queue string, body []byte) error {
	return b.PublishTraced("", queue, body)
}

// PublishTraced implements runtime.TracedEvents.
func (b eventsBackend) PublishTraced(traceparent, queue string, body []byte) error {
	_, err := b.m.PublishTraced(traceparent, queue, body)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, events.ErrInvalidQueue):
		return abi.ErrInvalid
	case errors.Is(err, events.ErrMessageTooLarge):
		return abi.ErrTooLarge
	}
	return abi.ErrInternal
}

func (b eventsBackend) ReadObject(function, bucket, name string, off int64, dst []byte) (int, error) {
	if !b.m.CanRead(function, bucket) {
		return 0, abi.ErrDenied
	}
	n, err := b.m.ReadObject(bucket, name, off, dst)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, events.ErrNotFound):
		return 0, abi.ErrNotFound
	case errors.Is(err, events.ErrInvalidObject):
		return 0, abi.ErrInvalid
	}
	return 0, abi.ErrInternal
}

// syncTriggers tells the events manager which triggers exist.
func (n *Node) syncTriggers() {
	var fns []events.FunctionTriggers
	for _, rec := range n.Registry.List() {
		fns = append(fns, triggersOf(rec))
	}
	n.Events.SetFunctions(fns)
}

func triggersOf(rec storage.Function) events.FunctionTriggers {
	ns := rec.KVNamespace
	if ns == "" {
		ns = rec.Name
	}
	return events.FunctionTriggers{Name: rec.Name, KVNamespace: ns, Grants: rec.KVGrants, Triggers: rec.Triggers}
}
