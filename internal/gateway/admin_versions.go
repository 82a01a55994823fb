package gateway

import (
	"fmt"
	"strconv"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/model"
)

// VersionView is one kept version of a function as the admin API lists
// it: its record (secrets hidden) and whether it is the active one.
type VersionView struct {
	model.Function
	Active bool `json:"active"`
}

// versions handles GET /v1/functions/{name}/versions: the kept
// versions, newest first.
func (s *Server) versions(ctx *fasthttp.RequestCtx, name string) {
	if !ctx.IsGet() {
		methodNotAllowed(ctx, "GET")
		return
	}
	vs, err := s.reg.Versions(name)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	var active int64
	if f, ok := s.reg.Get(name); ok {
		active = f.Record.Version
	}
	out := make([]VersionView, len(vs))
	for i, v := range vs {
		out[i] = VersionView{Function: redact(v), Active: v.Version == active}
	}
	writeJSON(ctx, 200, map[string]any{"name": name, "active": active, "versions": out})
}

// rollback handles POST /v1/functions/{name}/rollback[?version=N]: the
// kept version N (default: the one before the active one) becomes the
// active version, on this node at once and on the others as any deploy
// reaches them.
func (s *Server) rollback(ctx *fasthttp.RequestCtx, name string) {
	if !ctx.IsPost() {
		methodNotAllowed(ctx, "POST")
		return
	}
	var version int64
	if v := ctx.QueryArgs().Peek("version"); len(v) > 0 {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n < 1 {
			writeJSONError(ctx, 400, "invalid_request", fmt.Sprintf("function %q: version must be a positive integer", name))
			return
		}
		version = n
	}
	rec, err := s.reg.Rollback(name, version, TokenName(ctx))
	if err != nil {
		WriteError(ctx, err)
		return
	}
	writeJSON(ctx, 200, redact(rec))
}

// promote handles POST /v1/functions/{name}/promote: a gradual
// rollout's new version serves every request.
func (s *Server) promote(ctx *fasthttp.RequestCtx, name string) {
	if !ctx.IsPost() {
		methodNotAllowed(ctx, "POST")
		return
	}
	rec, err := s.reg.Promote(name)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	writeJSON(ctx, 200, redact(rec))
}

// rollbackApp handles POST /v1/apps/{app}/rollback: the functions the
// app's last deploy changed go back to their versions before it.
func (s *Server) rollbackApp(ctx *fasthttp.RequestCtx, app string) {
	if !ctx.IsPost() {
		methodNotAllowed(ctx, "POST")
		return
	}
	if !functionsAllowed(ctx, s.appFunctions(app)...) {
		return
	}
	changes, err := s.reg.RollbackApp(app, TokenName(ctx))
	if err != nil {
		WriteError(ctx, err)
		return
	}
	writeJSON(ctx, 200, map[string]any{"app": app, "changes": changes})
}
