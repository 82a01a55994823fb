package gateway

import (
	"bufio"
	"bytes"
	"slices"
	"strconv"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/access"
	"github.com/wedge-run/wedge/internal/tracing"
)

// A token with a functions pattern (wedge tokens create --functions
// GLOB) sees only the functions it matches. access.Authorize refuses the
// routes that name another function (/v1/functions/{name}/...,
// /v1/apps/{app}/...); the endpoints that show several functions at once
// filter what they show with sees:
//
//	GET /v1/functions            the matching functions only
//	GET /v1/apps[/{app}]         each app with its matching functions; apps with none left out
//	GET /metrics                 series labelled with another function left out
//	GET /v1/scheduler            per-function state of the matching functions only
//	GET /v1/events/dead          dead letters of the matching functions only
//	GET /v1/queues/{q}/dead      the same
//	GET /v1/traces[/{id}]        traces whose every function matches (and that name one)
//	/v1/kv[/{ns}/...]            the namespaces a matching function owns or is
//	                             granted, or whose name matches; others refused
//	/v1/console/...              filtered by the console itself (RestrictedToken)
//
// The other admin routes show no function: cluster members, buckets and
// event totals; tokens and the audit log need the admin scope.

// restriction returns the request's token when it has a functions
// pattern (RestrictedToken, console.go).
func restriction(ctx *fasthttp.RequestCtx) (access.Token, bool) { return RestrictedToken(ctx) }

// sees reports whether the request's token may see the function name.
func sees(ctx *fasthttp.RequestCtx, name string) bool {
	tok, ok := restriction(ctx)
	return !ok || tok.Sees(name)
}

// namespaceFilterKey holds, for a restricted token, the function that
// says which KV namespaces it sees (the KV routes have no registry).
const namespaceFilterKey = "wedge.token.namespaces"

// seesNamespace reports whether tok, restricted to a functions pattern,
// may see the KV namespace ns: one a function it sees owns or is granted,
// or one whose name matches the pattern.
func (s *Server) seesNamespace(tok access.Token, ns string) bool {
	if tok.Sees(ns) {
		return true
	}
	for _, f := range s.reg.List() {
		if tok.Sees(f.Name) && (f.KVNamespace == ns || slices.Contains(f.KVGrants, ns)) {
			return true
		}
	}
	return false
}

// seesNS reports whether the request's token may see the KV namespace ns.
func seesNS(ctx *fasthttp.RequestCtx, ns string) bool {
	f, ok := ctx.UserValue(namespaceFilterKey).(func(string) bool)
	return !ok || f(ns)
}

// filterMetrics drops the lines of a Prometheus exposition whose
// function label names a function the request's token does not see.
func filterMetrics(ctx *fasthttp.RequestCtx, text []byte) []byte {
	tok, ok := restriction(ctx)
	if !ok {
		return text
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if i := bytes.Index(line, []byte(`function="`)); i >= 0 {
			q, err := strconv.QuotedPrefix(string(line[i+len("function="):]))
			if name, uerr := strconv.Unquote(q); err != nil || uerr != nil || !tok.Sees(name) {
				continue
			}
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// traceVisible reports whether the request's token may see a trace: one
// that names at least one function, and only functions it sees.
func traceVisible(ctx *fasthttp.RequestCtx, spans []tracing.SpanRecord) bool {
	tok, ok := restriction(ctx)
	if !ok {
		return true
	}
	named := false
	for _, sp := range spans {
		if fn, ok := sp.Attributes["wedge.function"]; ok {
			if !tok.Sees(fn) {
				return false
			}
			named = true
		}
	}
	return named
}
