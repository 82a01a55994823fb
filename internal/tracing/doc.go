// Package tracing owns wedge's OpenTelemetry traces: the provider a node
// sets up at start (OTLP/HTTP export when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, otherwise a bounded in-memory
// ring of the last traces served by the admin API), W3C trace-context
// propagation over fasthttp headers and durable work items, and the
// small helpers the gateway, the runtime and the events manager call.
//
// Zero cost when off: a node without tracing has a nil *Provider, every
// helper takes a nil context.Context or a zero Span as "not traced" and
// returns at once, so the hot path allocates nothing for tracing.
package tracing
