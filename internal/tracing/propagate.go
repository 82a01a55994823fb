package tracing

import (
	"context"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

var tc = propagation.TraceContext{}

// headerCarrier adapts a fasthttp request head to the propagator.
type headerCarrier struct{ h *fasthttp.RequestHeader }

func (c headerCarrier) Get(k string) string { return string(c.h.Peek(k)) }
func (c headerCarrier) Set(k, v string)     { c.h.Set(k, v) }
func (c headerCarrier) Keys() []string      { return []string{"traceparent", "tracestate"} }

// Extract returns a context holding the remote parent named by h's
// traceparent (and tracestate), or a plain background context.
func Extract(h *fasthttp.RequestHeader) context.Context {
	return tc.Extract(context.Background(), headerCarrier{h})
}

// Inject writes the span of ctx as traceparent (and tracestate) into h;
// a nil ctx writes nothing.
func Inject(ctx context.Context, h *fasthttp.RequestHeader) {
	if ctx == nil {
		return
	}
	tc.Inject(ctx, headerCarrier{h})
}

// TraceParent is the W3C traceparent of the span in ctx, or "" when ctx
// is nil or holds no valid span. Durable work items carry it.
func TraceParent(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	m := propagation.MapCarrier{}
	tc.Inject(ctx, m)
	return m["traceparent"]
}

// WithParent returns ctx (background when nil) carrying the remote
// parent named by traceparent; an empty or invalid one leaves it as is.
func WithParent(ctx context.Context, traceparent string) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	if traceparent == "" {
		return ctx
	}
	return tc.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// TraceID is the hex trace id of the span in ctx, "" when none.
func TraceID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String()
}
