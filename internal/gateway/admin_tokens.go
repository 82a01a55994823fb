package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/access"
)

// tokenKey is the request's user value that names the token it came
// with; tokenRestrictKey holds the token when it has a functions pattern.
const (
	tokenKey         = "wedge.token"
	tokenRestrictKey = "wedge.token.restricted"
)

// functionsAllowed checks the functions an app request touches against
// the pattern of the request's token, if it has one (Authorize checked
// the app's name; an app's functions have names of their own). It
// answers 403 and returns false when one does not match.
func functionsAllowed(ctx *fasthttp.RequestCtx, names ...string) bool {
	tok, ok := ctx.UserValue(tokenRestrictKey).(access.Token)
	if !ok {
		return true
	}
	for _, n := range names {
		if err := access.Authorize(tok, string(ctx.Method()), "/v1/functions/"+n); err != nil {
			writeJSONError(ctx, fasthttp.StatusForbidden, "forbidden", err.Error())
			return false
		}
	}
	return true
}

// TokenName returns the name of the admin token an admin request was
// made with ("admin" for the node's own token), for records of who did
// what (deploys).
func TokenName(ctx *fasthttp.RequestCtx) string {
	s, _ := ctx.UserValue(tokenKey).(string)
	return s
}

var bearer = []byte("Bearer ")

// authenticate finds the request's token: the node's admin token
// (Config.AdminToken, named "admin"), else a stored token by the hash of
// the secret presented (LookupToken). Without a bearer token, a web
// console session (console.go) stands for the token it was signed in
// with.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx) (access.Token, bool) {
	h := ctx.Request.Header.Peek("Authorization")
	if !bytes.HasPrefix(h, bearer) {
		return s.sessionToken(ctx)
	}
	return s.LookupToken(string(bytes.TrimSpace(h[len(bearer):])))
}

// audit records an admin request once it has been answered.
func (s *Server) audit(ctx *fasthttp.RequestCtx, token string) {
	if s.auditLog == nil {
		return
	}
	s.auditLog.Record(access.Entry{Time: time.Now().UTC(), Token: token, Method: string(ctx.Method()),
		Path: string(ctx.Path()), Status: ctx.Response.StatusCode(), Remote: ctx.RemoteIP().String()})
}

// TokenView is a token as the admin API shows it.
type TokenView struct {
	access.Token
	LastUsed *time.Time `json:"last_used,omitempty"`
	Secret   string     `json:"secret,omitempty"` // only in the answer to a create
}

// tokensAPI serves
//
//	POST   /v1/tokens          {"name","scope","functions"} -> 201 with the secret, shown once
//	GET    /v1/tokens          every token with its last use on this node
//	DELETE /v1/tokens/{name}   revoke
func (s *Server) tokensAPI(ctx *fasthttp.RequestCtx, by string) {
	if s.tokens == nil {
		writeJSONError(ctx, 404, "not_found", "this node keeps no tokens")
		return
	}
	name := strings.TrimPrefix(strings.TrimPrefix(string(ctx.Path()), "/v1/tokens"), "/")
	switch {
	case name == "" && ctx.IsGet():
		toks, err := s.tokens.List()
		if err != nil {
			WriteError(ctx, err)
			return
		}
		out := make([]TokenView, 0, len(toks)+1)
		out = append(out, s.tokenView(access.Token{Name: access.AdminName, Scope: access.ScopeAdmin}))
		for _, t := range toks {
			out = append(out, s.tokenView(t))
		}
		writeJSON(ctx, 200, map[string]any{"tokens": out})
	case name == "" && ctx.IsPost():
		var req access.Token
		if err := json.Unmarshal(ctx.PostBody(), &req); err != nil {
			writeJSONError(ctx, 400, "invalid_request", "body: want JSON {\"name\", \"scope\", \"functions\"}: "+err.Error())
			return
		}
		tok, secret, err := s.tokens.Create(ctx, access.Token{Name: req.Name, Scope: req.Scope, Functions: req.Functions}, by)
		if err != nil {
			writeAccessError(ctx, err)
			return
		}
		v := s.tokenView(tok)
		v.Secret = secret
		writeJSON(ctx, 201, v)
	case name == "":
		methodNotAllowed(ctx, "GET, POST")
	case ctx.IsDelete():
		if name == access.AdminName {
			writeJSONError(ctx, 400, "invalid_request", "the node's admin token cannot be revoked here: change --admin-token or the data dir's admin-token file")
			return
		}
		if err := s.tokens.Revoke(ctx, name); err != nil {
			writeAccessError(ctx, err)
			return
		}
		writeJSON(ctx, 200, map[string]string{"revoked": name})
	default:
		methodNotAllowed(ctx, "DELETE")
	}
}

func (s *Server) tokenView(t access.Token) TokenView {
	v := TokenView{Token: t}
	if s.auditLog != nil {
		if lu := s.auditLog.LastUse(t.Name); !lu.IsZero() {
			v.LastUsed = &lu
		}
	}
	return v
}

func writeAccessError(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, access.ErrInvalid):
		writeJSONError(ctx, 400, "invalid_request", err.Error())
	case errors.Is(err, access.ErrExists):
		writeJSONError(ctx, 409, "exists", err.Error())
	case errors.Is(err, access.ErrNotFound):
		writeJSONError(ctx, 404, "not_found", err.Error())
	default:
		WriteError(ctx, err)
	}
}

// auditAPI serves GET /v1/audit?since=RFC3339|DURATION&token=NAME&limit=N:
// this node's most recent matching admin requests, oldest first.
func (s *Server) auditAPI(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() {
		methodNotAllowed(ctx, "GET")
		return
	}
	if s.auditLog == nil {
		writeJSONError(ctx, 404, "not_found", "this node keeps no audit log")
		return
	}
	args := ctx.QueryArgs()
	q := access.Query{Token: string(args.Peek("token"))}
	if v := string(args.Peek("since")); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			q.Since = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, v); err == nil {
			q.Since = t
		} else {
			writeJSONError(ctx, 400, "invalid_request", "since: want an RFC 3339 time or a duration (1h)")
			return
		}
	}
	if v := string(args.Peek("limit")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeJSONError(ctx, 400, "invalid_request", "limit: want a positive integer")
			return
		}
		q.Limit = n
	}
	entries, err := s.auditLog.Query(q)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	writeJSON(ctx, 200, map[string]any{"node": s.cfg.NodeName, "entries": entries})
}
