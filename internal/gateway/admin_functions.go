package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/model"
)

// FunctionView is a function as the admin API shows it: its record
// (model.Function, secrets hidden) and whether its native code came
// from the artifact cache.
type FunctionView struct {
	model.Function
	FromCache bool `json:"from_cache"`
}

func (s *Server) functionViews() []FunctionView {
	recs := s.reg.List()
	out := make([]FunctionView, 0, len(recs))
	for _, r := range recs {
		v := FunctionView{Function: redact(r)}
		if f, ok := s.reg.Get(r.Name); ok {
			v.FromCache = f.Module.FromCache
		}
		out = append(out, v)
	}
	return out
}

// redact is a record as the admin API shows it: secret values hidden
// (plain configuration is shown), and its kind named even when it was
// stored before kinds were kept.
func redact(f model.Function) model.Function {
	f = f.Redacted()
	f.Kind = f.KindOf()
	return f
}

func (s *Server) function(ctx *fasthttp.RequestCtx, name string) {
	switch string(ctx.Method()) {
	case "GET":
		f, ok := s.reg.Get(name)
		if !ok {
			writeJSONError(ctx, 404, "not_found", fmt.Sprintf("function %q not found", name))
			return
		}
		writeJSON(ctx, 200, FunctionView{Function: redact(f.Record), FromCache: f.Module.FromCache})
	case "PUT", "POST":
		s.deploy(ctx, name)
	case "DELETE":
		rec, err := s.reg.Delete(ctx, name)
		if err != nil {
			WriteError(ctx, err)
			return
		}
		if s.logs != nil {
			s.logs.Forget(name)
		}
		writeJSON(ctx, 200, map[string]any{"deleted": rec.Name, "version": rec.Version})
	default:
		methodNotAllowed(ctx, "GET, PUT, DELETE")
	}
}

// deploy handles PUT /v1/functions/{name}?route=/a&route=/b/...
//
// Optional query parameters: timeout_ms, memory_mb, max_response_bytes,
// max_concurrency, config=KEY=VALUE (repeatable), kv_namespace, kv_grant
// (repeatable), app, allow_host (repeatable: an outbound HTTP destination,
// "https://api.example.com"), outbound_timeout_ms,
// outbound_max_response_bytes, outbound_max_requests, traffic (1..99: a
// gradual rollout serving that percentage), traffic_key (header:NAME or
// cookie:NAME).
func (s *Server) deploy(ctx *fasthttp.RequestCtx, name string) {
	body := ctx.PostBody()
	if len(body) > s.cfg.MaxModuleBytes {
		writeJSONError(ctx, fasthttp.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("module is %d bytes; the limit is %d", len(body), s.cfg.MaxModuleBytes))
		return
	}
	if len(body) == 0 {
		writeJSONError(ctx, 400, "invalid_module", "empty body: send the .wasm module as the request body")
		return
	}
	req, err := deployRequest(ctx, name)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	req.Wasm = append([]byte(nil), body...)
	req.JS = isJavaScript(ctx.Request.Header.ContentType())
	req.Info.DeployedBy = TokenName(ctx)
	dctx := requestContext(ctx)
	s.runDeploy(ctx, func(say func(string, string)) (int, any, error) { // admin_progress.go
		req.Progress = func(phase string) { say(name, phase) }
		rec, created, err := s.reg.Deploy(dctx, req)
		if err != nil {
			return 0, nil, err
		}
		say(name, "ready")
		if created {
			return 201, redact(rec), nil
		}
		return 200, redact(rec), nil
	})
}

func deployRequest(ctx *fasthttp.RequestCtx, name string) (registry.DeployRequest, error) {
	args := ctx.QueryArgs()
	req := registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: name}}
	for _, r := range args.PeekMulti("route") {
		req.Routes = append(req.Routes, string(r))
	}
	// intArg reads a non-negative integer up to most, the largest value
	// whose conversion to bytes or to a duration does not wrap (a wrapped
	// value read as unset, and the default limit applied silently).
	intArg := func(key string, most int64) (int64, error) {
		v := args.Peek(key)
		if len(v) == 0 {
			return 0, nil
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%w: %s must be a non-negative integer", errBadRequest, key)
		}
		if n > most {
			return 0, fmt.Errorf("%w: %s is out of range", errBadRequest, key)
		}
		return n, nil
	}
	var err error
	if req.Limits.TimeoutMS, err = intArg("timeout_ms", math.MaxInt64/int64(time.Millisecond)); err != nil {
		return req, err
	}
	mem, err := intArg("memory_mb", math.MaxInt64>>20)
	if err != nil {
		return req, err
	}
	if mem > abi.MaxMemoryMB { // before the shift, which could wrap
		return req, fmt.Errorf("%w: memory_mb must be between 1 and %d, got %d", errBadRequest, abi.MaxMemoryMB, mem)
	}
	req.Limits.MemoryBytes = mem << 20
	mr, err := intArg("max_response_bytes", math.MaxInt64)
	if err != nil {
		return req, err
	}
	req.Limits.MaxResponseBytes = int(mr)
	mc, err := intArg("max_concurrency", math.MaxInt64)
	if err != nil {
		return req, err
	}
	req.Limits.MaxConcurrency = int(mc)
	if req.Limits.OutboundTimeoutMS, err = intArg("outbound_timeout_ms", math.MaxInt64/int64(time.Millisecond)); err != nil {
		return req, err
	}
	if req.Limits.OutboundMaxResponseBytes, err = intArg("outbound_max_response_bytes", math.MaxInt64); err != nil {
		return req, err
	}
	or, err := intArg("outbound_max_requests", math.MaxInt32)
	if err != nil {
		return req, err
	}
	req.Limits.OutboundMaxRequests = int(or)
	for _, kv := range args.PeekMulti("config") {
		k, v, ok := strings.Cut(string(kv), "=")
		if !ok || k == "" {
			return req, fmt.Errorf("%w: config must be KEY=VALUE", errBadRequest)
		}
		if req.Config == nil {
			req.Config = map[string]string{}
		}
		req.Config[k] = v
	}
	for _, kv := range args.PeekMulti("secret") {
		k, v, ok := strings.Cut(string(kv), "=")
		if !ok || k == "" {
			return req, fmt.Errorf("%w: secret must be KEY=VALUE", errBadRequest)
		}
		if req.Secrets == nil {
			req.Secrets = map[string]string{}
		}
		req.Secrets[k] = v
	}
	for _, raw := range args.PeekMulti("trigger") {
		var t model.Trigger
		if err := json.Unmarshal(raw, &t); err != nil {
			return req, fmt.Errorf("%w: trigger must be a JSON object such as {\"kind\":\"queue\",\"queue\":\"jobs\"}: %v", errBadRequest, err)
		}
		req.Triggers = append(req.Triggers, t)
	}
	req.KVNamespace = string(args.Peek("kv_namespace"))
	for _, g := range args.PeekMulti("kv_grant") {
		req.KVGrants = append(req.KVGrants, string(g))
	}
	for _, h := range args.PeekMulti("allow_host") {
		req.AllowedHosts = append(req.AllowedHosts, string(h))
	}
	req.App = string(args.Peek("app"))
	req.Affinity = string(args.Peek("affinity"))
	req.TrafficKey = string(args.Peek("traffic_key"))
	tr, err := intArg("traffic", 100)
	if err != nil {
		return req, err
	}
	req.Traffic = int(tr)
	switch string(args.Peek("snapshot")) {
	case "", "true", "1":
	case "false", "0":
		req.NoSnapshot = true
	default:
		return req, fmt.Errorf("%w: snapshot must be true or false", errBadRequest)
	}
	return req, nil
}

var errFollowEnded = errors.New("follow ended")

// functionLogs serves GET /v1/functions/{name}/logs?after=SEQ&limit=N
// as JSON lines, and with follow=1 keeps streaming new lines.
func (s *Server) functionLogs(ctx *fasthttp.RequestCtx, name string) {
	if !ctx.IsGet() {
		methodNotAllowed(ctx, "GET")
		return
	}
	if _, ok := s.reg.Get(name); !ok && len(s.logs.Tail(name, 0, 1)) == 0 {
		writeJSONError(ctx, 404, "not_found", fmt.Sprintf("function %q not found", name))
		return
	}
	args := ctx.QueryArgs()
	after, _ := strconv.ParseUint(string(args.Peek("after")), 10, 64)
	limit, _ := strconv.Atoi(string(args.Peek("limit")))
	follow := string(args.Peek("follow"))
	ctx.SetContentType("application/x-ndjson")
	if follow != "1" && follow != "true" {
		for _, e := range s.logs.Tail(name, after, limit) {
			writeLine(ctx, e)
		}
		return
	}
	f := s.logs.Follow(name, 1024)
	backlog := s.logs.Tail(name, after, limit)
	done := s.done
	ctx.SetBodyStreamWriter(s.recoveringStream("logs follow", func(w *bufioWriter) {
		defer f.Close()
		last := uint64(0)
		for _, e := range backlog {
			writeLine(w, e)
			last = e.Seq
		}
		if w.Flush() != nil {
			return
		}
		heartbeat := time.NewTicker(5 * time.Second)
		defer heartbeat.Stop()
		for {
			select {
			case e := <-f.C():
				if e.Seq <= last {
					continue
				}
				writeLine(w, e)
				if n := f.Missed(); n > 0 {
					fmt.Fprintf(w, "{\"missed\":%d}\n", n)
				}
				if w.Flush() != nil {
					return
				}
			case <-heartbeat.C:
				// An empty line detects a client that went away.
				if _, err := w.WriteString("\n"); err != nil || w.Flush() != nil {
					return
				}
			case <-done:
				return
			}
		}
	}))
}
