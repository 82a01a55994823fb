package tracing

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Span is an optional span: the zero Span is "not traced" and every
// method on it returns at once.
type Span struct{ s trace.Span }

// Kinds of span, re-exported so callers need not import otel.
const (
	KindInternal = trace.SpanKindInternal
	KindServer   = trace.SpanKindServer
	KindClient   = trace.SpanKindClient
	KindConsumer = trace.SpanKindConsumer
	KindProducer = trace.SpanKindProducer
)

// Start begins a span named name under the span (or remote parent) in
// parent. With p nil it returns (nil, Span{}): not traced.
func (p *Provider) Start(parent context.Context, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, Span) {
	if p == nil {
		return nil, Span{}
	}
	if parent == nil {
		parent = context.Background()
	}
	ctx, s := p.tracer.Start(parent, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
	return ctx, Span{s}
}

// StartAt is Start with an explicit start time (a span for a wait that
// already ended, recorded only when the request is traced).
func (p *Provider) StartAt(parent context.Context, name string, at time.Time, attrs ...attribute.KeyValue) (context.Context, Span) {
	if p == nil || parent == nil {
		return nil, Span{}
	}
	ctx, s := p.tracer.Start(parent, name, trace.WithTimestamp(at), trace.WithAttributes(attrs...))
	return ctx, Span{s}
}

// Child begins a span under the one in ctx, with the provider that made
// it; a nil ctx (not traced) gives the zero Span. The runtime's host
// calls use it: they hold only the request's context.
func Child(ctx context.Context, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, Span) {
	if ctx == nil {
		return nil, Span{}
	}
	parent := trace.SpanFromContext(ctx)
	if !parent.SpanContext().IsValid() {
		return nil, Span{}
	}
	c, s := parent.TracerProvider().Tracer(scope).Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
	return c, Span{s}
}

// Traced reports whether s records anything.
func (s Span) Traced() bool { return s.s != nil }

// End ends the span.
func (s Span) End() {
	if s.s != nil {
		s.s.End()
	}
}

// Fail marks the span failed with err.
func (s Span) Fail(err error) {
	if s.s != nil && err != nil {
		s.s.RecordError(err)
		s.s.SetStatus(codes.Error, err.Error())
	}
}

// Set adds attributes.
func (s Span) Set(attrs ...attribute.KeyValue) {
	if s.s != nil {
		s.s.SetAttributes(attrs...)
	}
}

// String, Int and Bool make attributes without importing otel.
func String(k, v string) attribute.KeyValue    { return attribute.String(k, v) }
func Int(k string, v int) attribute.KeyValue   { return attribute.Int(k, v) }
func Bool(k string, v bool) attribute.KeyValue { return attribute.Bool(k, v) }
