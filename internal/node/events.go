package node

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/invoke"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/model"
)

// invoker delivers events through the node's one invoke path
// (internal/invoke), the one HTTP requests take: the function's live
// version, the node's scheduler, a fresh instance, a retry on the new
// version when a deploy retired the old one.
type invoker struct {
	n   *Node
	seq atomic.Uint64
}

func (iv *invoker) InvokeEvent(ctx context.Context, function string, event []byte) error {
	n := iv.n
	if !n.ready.Load() {
		return events.ErrBusy // still starting
	}
	c := runtime.NewCall()
	defer c.Release()
	c.Event = event
	c.RequestID = "ev-" + strconv.FormatUint(iv.seq.Add(1), 36)
	err := n.Invoke.Invoke(ctx, function, c)
	if errors.Is(err, invoke.ErrShed) || errors.Is(err, runtime.ErrBusy) || errors.Is(err, context.Canceled) {
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

func triggersOf(rec model.Function) events.FunctionTriggers {
	ns := rec.KVNamespace
	if ns == "" {
		ns = rec.Name
	}
	return events.FunctionTriggers{Name: rec.Name, KVNamespace: ns, Grants: rec.KVGrants, Triggers: rec.Triggers}
}
