package tracing

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Config sets up a node's tracing.
type Config struct {
	// Sample is the fraction of new traces recorded (0..1], parent-based:
	// a request whose traceparent is sampled is always recorded. 0 defers
	// to the environment: tracing is on when an OTLP endpoint or
	// OTEL_TRACES_SAMPLER is set, sampled as OTEL_TRACES_SAMPLER /
	// OTEL_TRACES_SAMPLER_ARG say (the SDK's default: parent-based, every
	// trace). Negative turns tracing off.
	Sample float64
	// NodeName is the service.instance.id of the node's spans.
	NodeName string
	// RingTraces is how many traces the in-memory ring keeps when no
	// exporter is configured; default 256.
	RingTraces int
	// Endpoint overrides the OTLP/HTTP endpoint of the environment
	// (a URL such as http://127.0.0.1:4318); empty: the environment's.
	Endpoint string
}

// Provider is a node's tracer. A nil *Provider means tracing is off.
type Provider struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	ring   *Ring // nil when spans are exported
}

const scope = "github.com/wedge-run/wedge"

// Enabled reports whether cfg and the environment turn tracing on:
// Sample > 0, or Sample == 0 with an OTLP endpoint or an
// OTEL_TRACES_SAMPLER other than always_off in the environment.
func Enabled(cfg Config) bool {
	switch {
	case cfg.Sample > 0:
		return true
	case cfg.Sample < 0:
		return false
	}
	if os.Getenv("OTEL_TRACES_SAMPLER") == "always_off" {
		return false
	}
	return cfg.Endpoint != "" || exporterFromEnv() || os.Getenv("OTEL_TRACES_SAMPLER") != ""
}

func exporterFromEnv() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// New sets up tracing from cfg and the standard OTEL_* variables. It
// returns nil (tracing off) when Enabled(cfg) is false.
func New(cfg Config) (*Provider, error) {
	if !Enabled(cfg) {
		return nil, nil
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", "wedge"),
		attribute.String("service.instance.id", cfg.NodeName),
	)
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if cfg.Sample > 0 {
		opts = append(opts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.Sample))))
	}
	p := &Provider{}
	endpoint := cfg.Endpoint
	if endpoint != "" || exporterFromEnv() {
		var eo []otlptracehttp.Option
		if endpoint != "" {
			eo = append(eo, otlptracehttp.WithEndpointURL(strings.TrimSuffix(endpoint, "/")+"/v1/traces"))
		}
		exp, err := otlptracehttp.New(context.Background(), eo...)
		if err != nil {
			return nil, fmt.Errorf("tracing: OTLP/HTTP exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	} else {
		n := cfg.RingTraces
		if n <= 0 {
			n = 256
		}
		p.ring = NewRing(n)
		opts = append(opts, sdktrace.WithSpanProcessor(p.ring))
	}
	p.tp = sdktrace.NewTracerProvider(opts...)
	p.tracer = p.tp.Tracer(scope)
	return p, nil
}

// Ring is the in-memory ring, or nil when spans are exported (or p is nil).
func (p *Provider) Ring() *Ring {
	if p == nil {
		return nil
	}
	return p.ring
}

// Shutdown flushes the exporter and stops the provider.
func (p *Provider) Shutdown() {
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.tp.Shutdown(ctx)
}

// Flush exports the spans ended so far (tests, shutdown).
func (p *Provider) Flush() {
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.tp.ForceFlush(ctx)
}
