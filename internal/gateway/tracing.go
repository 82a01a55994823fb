package gateway

import (
	"context"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/tracing"
)

// traceKey holds a traced request's context.Context (its server span) in
// the fasthttp request's user values, for forwarding.
const traceKey = "wedge.trace"

// startRequest begins the server span of a public request, the child of
// the client's traceparent if it sent one (a peer forwarding it, too).
// Only called when tracing is on.
func (s *Server) startRequest(ctx *fasthttp.RequestCtx) (context.Context, tracing.Span) {
	tctx, sp := s.tracer.Start(tracing.Extract(&ctx.Request.Header), "wedge.request", tracing.KindServer,
		tracing.String("http.request.method", string(ctx.Method())),
		tracing.String("url.path", string(ctx.Path())),
		tracing.String("server.address", string(ctx.Host())),
		tracing.String("wedge.node", s.cfg.NodeName))
	ctx.SetUserValue(traceKey, tctx)
	return tctx, sp
}

// endRequest records the outcome of a traced request and ends its span.
func endRequest(ctx *fasthttp.RequestCtx, sp tracing.Span) {
	status := ctx.Response.StatusCode()
	sp.Set(tracing.Int("http.response.status_code", status))
	if fn := ctx.UserValue(traceFnKey); fn != nil {
		sp.Set(tracing.String("wedge.function", fn.(string)))
	}
	if status >= 500 {
		sp.Fail(&statusErr{status})
	}
	sp.End()
}

const traceFnKey = "wedge.trace.function"

type statusErr struct{ status int }

func (e *statusErr) Error() string { return "HTTP " + fasthttp.StatusMessage(e.status) }

// traceOf returns the traced request's context, nil when untraced.
func (s *Server) traceOf(ctx *fasthttp.RequestCtx) context.Context {
	if s.tracer == nil {
		return nil
	}
	t, _ := ctx.UserValue(traceKey).(context.Context)
	return t
}

// startForward begins the client span of a request forwarded to peer and
// writes its traceparent into req; untraced requests get the zero Span.
func (s *Server) startForward(ctx *fasthttp.RequestCtx, req *fasthttp.Request, peer string) tracing.Span {
	t := s.traceOf(ctx)
	if t == nil {
		return tracing.Span{}
	}
	fctx, sp := tracing.Child(t, "wedge.forward", tracing.KindClient, tracing.String("wedge.peer", peer))
	tracing.Inject(fctx, &req.Header)
	return sp
}

// Tracer is the node's tracing provider (nil when off).
func (s *Server) Tracer() *tracing.Provider { return s.tracer }

// TraceRoutes serves the in-memory ring of the last traces:
// GET /v1/traces lists them (most recent first), GET /v1/traces/{id}
// returns one trace's spans. Without a ring (tracing off, or spans
// exported to a collector) both answer 404 with the reason.
func TraceRoutes(p *tracing.Provider) []AdminRoute {
	return []AdminRoute{{Prefix: "/v1/traces", Handler: func(ctx *fasthttp.RequestCtx) {
		if !ctx.IsGet() {
			writeJSONError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "use GET")
			return
		}
		ring := p.Ring()
		if ring == nil {
			why := "tracing is off on this node (start it with --trace-sample or OTEL_TRACES_SAMPLER)"
			if p != nil {
				why = "this node exports its traces over OTLP and keeps none in memory"
			}
			writeJSONError(ctx, fasthttp.StatusNotFound, "no_traces", why)
			return
		}
		id := strings.Trim(strings.TrimPrefix(string(ctx.Path()), "/v1/traces"), "/")
		if id == "" {
			list := ring.List()
			if _, ok := restriction(ctx); ok {
				list = slices.DeleteFunc(list, func(t tracing.TraceSummary) bool {
					spans, _ := ring.Get(t.TraceID)
					return !traceVisible(ctx, spans)
				})
			}
			writeJSON(ctx, fasthttp.StatusOK, map[string]any{"traces": list})
			return
		}
		spans, ok := ring.Get(id)
		if !ok || !traceVisible(ctx, spans) {
			writeJSONError(ctx, fasthttp.StatusNotFound, "not_found", "no trace "+id+" on this node")
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"trace_id": id, "spans": spans})
	}}}
}
