package gateway

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/access"
	"github.com/wedge-run/wedge/internal/invoke"
)

// AdminRoute lets another package (KV, cluster) serve part of the admin
// API behind the same authentication. Prefix is matched against the path;
// the handler sees the full request.
type AdminRoute struct {
	Prefix  string
	Handler func(ctx *fasthttp.RequestCtx)
	// PeerAuth routes check a peer signature themselves instead of the
	// admin token (node-to-node requests of the cluster).
	PeerAuth bool
	// SelfAuth routes decide themselves who may use them (the web
	// console's page and its sign-in, console.go).
	SelfAuth bool
}

// AddAdminRoutes mounts more routes (the cluster's, once it starts).
func (s *Server) AddAdminRoutes(routes ...AdminRoute) {
	s.extraMu.Lock()
	defer s.extraMu.Unlock()
	s.extra = append(append([]AdminRoute(nil), s.extra...), routes...)
}

// serveAdmin authenticates and dispatches admin requests.
func (s *Server) serveAdmin(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	if path == "/healthz" {
		s.health(ctx)
		return
	}
	s.extraMu.Lock()
	extra := s.extra
	s.extraMu.Unlock()
	// Node-to-node routes authenticate peers themselves.
	for _, r := range extra {
		if (r.PeerAuth || r.SelfAuth) && strings.HasPrefix(path, r.Prefix) {
			r.Handler(ctx)
			return
		}
	}
	tok, ok := s.authenticate(ctx)
	defer s.audit(ctx, tok.Name)
	if !ok {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="wedge"`)
		writeJSONError(ctx, fasthttp.StatusUnauthorized, "unauthorized", "a valid admin token is required (Authorization: Bearer TOKEN)")
		return
	}
	if err := access.Authorize(tok, string(ctx.Method()), path); err != nil {
		writeJSONError(ctx, fasthttp.StatusForbidden, "forbidden", err.Error())
		return
	}
	ctx.SetUserValue(tokenKey, tok.Name)
	if tok.Functions != "" {
		ctx.SetUserValue(tokenRestrictKey, tok)
		ctx.SetUserValue(namespaceFilterKey, func(ns string) bool { return s.seesNamespace(tok, ns) })
	}
	switch {
	case path == "/v1/tokens" || strings.HasPrefix(path, "/v1/tokens/"):
		s.tokensAPI(ctx, tok.Name)
	case path == "/v1/audit":
		s.auditAPI(ctx)
	case path == "/metrics":
		ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
		if _, ok := restriction(ctx); ok {
			var b bytes.Buffer
			s.writeMetrics(&b)
			ctx.SetBody(filterMetrics(ctx, b.Bytes()))
			break
		}
		s.writeMetrics(ctx)
	case path == "/v1/apps" || strings.HasPrefix(path, "/v1/apps/"):
		s.apps(ctx)
	case path == "/v1/cluster/members":
		s.members(ctx)
	case path == "/v1/scheduler":
		s.schedulerInfo(ctx)
	case path == "/v1/functions" || path == "/v1/functions/":
		if !ctx.IsGet() {
			methodNotAllowed(ctx, "GET")
			return
		}
		views := s.functionViews()
		if _, ok := restriction(ctx); ok {
			views = slices.DeleteFunc(views, func(v FunctionView) bool { return !sees(ctx, v.Name) })
		}
		writeJSON(ctx, 200, map[string]any{"functions": views})
	case strings.HasPrefix(path, "/v1/functions/"):
		rest := strings.TrimPrefix(path, "/v1/functions/")
		name, sub, _ := strings.Cut(rest, "/")
		switch sub {
		case "":
			s.function(ctx, name)
		case "logs":
			s.functionLogs(ctx, name)
		case "versions":
			s.versions(ctx, name)
		case "rollback":
			s.rollback(ctx, name)
		case "promote":
			s.promote(ctx, name)
		default:
			writeJSONError(ctx, 404, "not_found", "no such endpoint: "+path)
		}
	default:
		for _, r := range extra {
			if !r.PeerAuth && !r.SelfAuth && strings.HasPrefix(path, r.Prefix) {
				r.Handler(ctx)
				return
			}
		}
		writeJSONError(ctx, 404, "not_found", "no such endpoint: "+path)
	}
}

func (s *Server) health(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, 200, map[string]any{
		"status":    "ok",
		"node":      s.cfg.NodeName,
		"version":   s.cfg.Version,
		"functions": s.reg.Len(),
	})
}

// WriteJSON writes v as a JSON response.
func WriteJSON(ctx *fasthttp.RequestCtx, status int, v any) { writeJSON(ctx, status, v) }

// WriteJSONError writes {"error": msg, "code": code}.
func WriteJSONError(ctx *fasthttp.RequestCtx, status int, code, msg string) {
	writeJSONError(ctx, status, code, msg)
}

// WriteError maps err to a status and writes it as a JSON error.
func WriteError(ctx *fasthttp.RequestCtx, err error) {
	status, code := statusOf(err)
	writeJSONError(ctx, status, code, err.Error())
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	enc := json.NewEncoder(ctx)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeJSONError(ctx *fasthttp.RequestCtx, status int, code, msg string) {
	ctx.ResetBody()
	writeJSON(ctx, status, map[string]string{"error": msg, "code": code})
}

func methodNotAllowed(ctx *fasthttp.RequestCtx, allow string) {
	ctx.Response.Header.Set("Allow", allow)
	writeJSONError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "allowed: "+allow)
}

// schedulerInfo serves GET /v1/scheduler: the node's concurrency state,
// per function, and in adaptive mode the limit's recent history.
func (s *Server) schedulerInfo(ctx *fasthttp.RequestCtx) {
	st := s.sched.Stats()
	out := map[string]any{
		"limit": st.Limit, "inflight": st.InFlight, "queued": st.Queued, "shed": st.Shed,
		"admitted": st.Admitted, "max_inflight_seen": st.MaxSeen, "adaptive": s.sched.Adaptive(),
		"memory_budget": st.MemoryBudget, "memory_reserved": st.MemoryReserved, "memory_max_reserved": st.MemoryMaxSeen,
		"functions": st.Functions,
	}
	if _, ok := restriction(ctx); ok {
		fns := maps.Clone(st.Functions)
		maps.DeleteFunc(fns, func(name string, _ invoke.FunctionSchedStats) bool { return !sees(ctx, name) })
		out["functions"] = fns
	}
	if h := s.sched.LimitHistory(); h != nil {
		out["limit_history"] = h
	}
	writeJSON(ctx, 200, out)
}

// MemberView is a cluster member as the admin API shows it.
type MemberView struct {
	Name       string  `json:"name"`
	Addr       string  `json:"addr,omitempty"`
	State      string  `json:"state"`
	Since      string  `json:"since,omitempty"`
	PublicAddr string  `json:"public_addr"`
	AdminAddr  string  `json:"admin_addr"`
	Version    string  `json:"version"`
	InFlight   int     `json:"inflight"`
	Limit      int     `json:"limit"`
	Load       float64 `json:"load"`
	Self       bool    `json:"self"`
}

// Members, if set, lists the cluster's members; a single node lists itself.
func (s *Server) SetMembers(f func() []MemberView) { s.membersFn.Store(&f) }

func (s *Server) members(ctx *fasthttp.RequestCtx) {
	if f := s.membersFn.Load(); f != nil {
		writeJSON(ctx, 200, map[string]any{"members": (*f)()})
		return
	}
	st := s.sched.Stats()
	writeJSON(ctx, 200, map[string]any{"members": []MemberView{{Name: s.cfg.NodeName, State: "alive", PublicAddr: s.PublicAddr(),
		AdminAddr: s.AdminAddr(), Version: s.cfg.Version, InFlight: st.InFlight, Limit: st.Limit,
		Load: float64(st.InFlight) / float64(max(st.Limit, 1)), Self: true}}})
}
