package gateway

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/tracing"
)

// EventRoutes serves queues, dead letters, buckets and event stats:
//
//	POST   /v1/queues/{queue}                 publish the body; {"id": ...}
//	GET    /v1/queues/{queue}/dead            dead-lettered messages
//	POST   /v1/queues/{queue}/dead/replay     replay all (or ?id=N) with a fresh attempt budget
//	GET    /v1/events                         delivery statistics
//	GET    /v1/events/dead?function=F         dead letters of any kind
//	POST   /v1/events/dead/replay?id=N|function=F
//	PUT    /v1/buckets/{bucket}/{object}      upload (fires the bucket's triggers)
//	GET    /v1/buckets/{bucket}/{object}      download
//	DELETE /v1/buckets/{bucket}/{object}
//	GET    /v1/buckets/{bucket}?prefix=P      list
func EventRoutes(m *events.Manager, maxObject int) []AdminRoute {
	h := &eventsAPI{m: m, maxObject: maxObject}
	return []AdminRoute{
		{Prefix: "/v1/queues/", Handler: h.queues},
		{Prefix: "/v1/events", Handler: h.events},
		{Prefix: "/v1/buckets/", Handler: h.buckets},
	}
}

type eventsAPI struct {
	m         *events.Manager
	maxObject int
}

func (h *eventsAPI) queues(ctx *fasthttp.RequestCtx) {
	rest := strings.TrimPrefix(string(ctx.Path()), "/v1/queues/")
	queue, sub, _ := strings.Cut(rest, "/")
	switch {
	case sub == "" && ctx.IsPost():
		id, err := h.m.PublishTraced(clientTrace(ctx), queue, ctx.PostBody())
		if err != nil {
			WriteError(ctx, err)
			return
		}
		writeJSON(ctx, 201, map[string]any{"queue": queue, "id": id})
	case sub == "dead" && ctx.IsGet():
		items, err := h.m.DeadLetters(queue, "")
		if err != nil {
			WriteError(ctx, err)
			return
		}
		writeJSON(ctx, 200, map[string]any{"queue": queue, "dead": deadViews(ctx, items)})
	case sub == "dead/replay" && ctx.IsPost():
		h.replay(ctx, queue, "")
	default:
		writeJSONError(ctx, 404, "not_found", "use POST /v1/queues/{queue}, GET /v1/queues/{queue}/dead or POST /v1/queues/{queue}/dead/replay")
	}
}

// clientTrace is the admin client's traceparent, if it sent a valid one:
// the admin API opens no spans, but the events a publish or an upload
// fires continue the client's trace (their handlers see it).
func clientTrace(ctx *fasthttp.RequestCtx) string {
	if len(ctx.Request.Header.Peek("traceparent")) == 0 {
		return ""
	}
	return tracing.TraceParent(tracing.Extract(&ctx.Request.Header))
}

func (h *eventsAPI) replay(ctx *fasthttp.RequestCtx, queue, function string) {
	var seq uint64
	if raw := string(ctx.QueryArgs().Peek("id")); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			writeJSONError(ctx, 400, "invalid_request", "id must be a dead letter's id")
			return
		}
		seq = n
	}
	n, err := h.m.Replay(seq, queue, function)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	writeJSON(ctx, 200, map[string]any{"replayed": n})
}

type deadView struct {
	ID        string `json:"id"`
	Function  string `json:"function"`
	Kind      string `json:"kind"`
	Source    string `json:"source"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error"`
	Body      string `json:"body,omitempty"`
	Created   string `json:"created"`
	DeadAt    string `json:"dead_at"`
}

// deadViews shows the dead letters of the functions the request's token
// sees (admin_scope.go).
func deadViews(ctx *fasthttp.RequestCtx, items []events.Item) []deadView {
	out := make([]deadView, 0, len(items))
	for _, it := range items {
		if !sees(ctx, it.Function) {
			continue
		}
		out = append(out, deadView{ID: it.ID(), Function: it.Function, Kind: it.Kind, Source: it.Source, Attempts: it.Attempts,
			LastError: it.LastError, Body: string(it.Body), Created: it.Created.Format("2006-01-02T15:04:05Z07:00"), DeadAt: it.DeadAt.Format("2006-01-02T15:04:05Z07:00")})
	}
	return out
}

func (h *eventsAPI) events(ctx *fasthttp.RequestCtx) {
	switch string(ctx.Path()) {
	case "/v1/events":
		writeJSON(ctx, 200, h.m.Stats())
	case "/v1/events/dead":
		fn := string(ctx.QueryArgs().Peek("function"))
		if fn != "" && !functionsAllowed(ctx, fn) {
			return
		}
		items, err := h.m.DeadLetters("", fn)
		if err != nil {
			WriteError(ctx, err)
			return
		}
		writeJSON(ctx, 200, map[string]any{"dead": deadViews(ctx, items)})
	case "/v1/events/dead/replay":
		if !ctx.IsPost() {
			methodNotAllowed(ctx, "POST")
			return
		}
		h.replay(ctx, "", string(ctx.QueryArgs().Peek("function")))
	default:
		writeJSONError(ctx, 404, "not_found", "no such endpoint")
	}
}

func (h *eventsAPI) buckets(ctx *fasthttp.RequestCtx) {
	rest := strings.TrimPrefix(string(ctx.Path()), "/v1/buckets/")
	bucket, name, hasName := strings.Cut(rest, "/")
	if !hasName || name == "" {
		if !ctx.IsGet() {
			methodNotAllowed(ctx, "GET")
			return
		}
		objs, err := h.m.ListObjects(bucket, string(ctx.QueryArgs().Peek("prefix")))
		if err != nil {
			WriteError(ctx, err)
			return
		}
		if objs == nil {
			objs = []events.Object{}
		}
		writeJSON(ctx, 200, map[string]any{"bucket": bucket, "objects": objs})
		return
	}
	switch string(ctx.Method()) {
	case "PUT":
		body := ctx.PostBody()
		if len(body) > h.maxObject {
			writeJSONError(ctx, 413, "too_large", fmt.Sprintf("object is %d bytes; the limit is %d", len(body), h.maxObject))
			return
		}
		o, err := h.m.PutObjectTraced(clientTrace(ctx), bucket, name, string(ctx.Request.Header.ContentType()), body)
		if err != nil {
			WriteError(ctx, err)
			return
		}
		writeJSON(ctx, 201, o)
	case "GET", "HEAD":
		o, data, err := h.m.GetObject(bucket, name)
		if err != nil {
			WriteError(ctx, err)
			return
		}
		ctx.SetContentType(o.ContentType)
		ctx.Response.Header.Set("ETag", strconv.Quote(o.SHA256))
		ctx.SetBody(data)
	case "DELETE":
		if err := h.m.DeleteObject(bucket, name); err != nil {
			WriteError(ctx, err)
			return
		}
		writeJSON(ctx, 200, map[string]any{"deleted": name})
	default:
		methodNotAllowed(ctx, "GET, PUT, DELETE")
	}
}

// UploadHandler accepts public uploads (PUT or POST) under a route into a
// bucket; the object's name is the path below the route.
func (s *Server) serveUpload(ctx *fasthttp.RequestCtx, bucket, name string) {
	if !ctx.IsPut() && !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "PUT, POST")
		ctx.SetStatusCode(405)
		return
	}
	o, err := s.events.PutObjectTraced(tracing.TraceParent(s.traceOf(ctx)), bucket, name, string(ctx.Request.Header.ContentType()), ctx.PostBody())
	if err != nil {
		WriteError(ctx, err)
		return
	}
	writeJSON(ctx, 201, o)
}
