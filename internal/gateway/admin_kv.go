package gateway

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/kv"
)

// KVRoutes serves the key-value part of the admin API:
//
//	GET    /v1/kv                                namespaces with key counts and sizes
//	GET    /v1/kv/{ns}?prefix=P&cursor=C&limit=N  a page of keys (JSON); values=1 includes values
//	GET    /v1/kv/{ns}/{key}                     the raw value; ETag carries the version
//	PUT    /v1/kv/{ns}/{key}?ttl=S&if-version=V  store the body (If-Match: "V" works too); 409 on a stale version
//	POST   /v1/kv/{ns}/{key}?increment=N         atomic increment of a counter
//	DELETE /v1/kv/{ns}/{key}[?if-version=V]      delete
func KVRoutes(st *kv.Store) []AdminRoute {
	h := &kvAPI{st: st}
	return []AdminRoute{{Prefix: "/v1/kv", Handler: h.serve}}
}

type kvAPI struct{ st *kv.Store }

func (h *kvAPI) serve(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	rest := strings.TrimPrefix(strings.TrimPrefix(path, "/v1/kv"), "/")
	if rest == "" {
		if !ctx.IsGet() {
			methodNotAllowed(ctx, "GET")
			return
		}
		nss, err := h.st.Namespaces()
		if err != nil {
			WriteError(ctx, err)
			return
		}
		out := make([]map[string]any, 0, len(nss))
		for _, n := range nss {
			if kv.Reserved(n.Name) || !seesNS(ctx, n.Name) {
				continue
			}
			out = append(out, map[string]any{"name": n.Name, "keys": n.Keys, "bytes": n.Bytes})
		}
		writeJSON(ctx, 200, map[string]any{"namespaces": out})
		return
	}
	ns, key, hasKey := strings.Cut(rest, "/")
	if kv.Reserved(ns) {
		writeJSONError(ctx, 403, "forbidden", fmt.Sprintf("namespace %q is reserved for the node (names starting with %q)", ns, kv.ReservedPrefix))
		return
	}
	if !seesNS(ctx, ns) {
		tok, _ := restriction(ctx)
		writeJSONError(ctx, 403, "forbidden", fmt.Sprintf("token %q may use only the namespaces of functions matching %q, not %q", tok.Name, tok.Functions, ns))
		return
	}
	if !hasKey || key == "" {
		if strings.HasSuffix(path, "/") && hasKey {
			writeJSONError(ctx, 400, "invalid_request", "empty key")
			return
		}
		h.list(ctx, ns)
		return
	}
	switch string(ctx.Method()) {
	case "GET", "HEAD":
		e, err := h.st.Get(ns, key)
		if err != nil {
			WriteError(ctx, err)
			return
		}
		ctx.Response.Header.Set("ETag", strconv.Quote(strconv.FormatUint(e.Version, 10)))
		ctx.Response.Header.Set("X-Wedge-Version", strconv.FormatUint(e.Version, 10))
		if !e.Expires.IsZero() {
			ctx.Response.Header.Set("Expires", e.Expires.UTC().Format(time.RFC1123))
		}
		ctx.SetContentType("application/octet-stream")
		ctx.SetBody(e.Value)
	case "PUT":
		h.put(ctx, ns, key)
	case "POST":
		delta, err := strconv.ParseInt(string(ctx.QueryArgs().Peek("increment")), 10, 64)
		if err != nil {
			writeJSONError(ctx, 400, "invalid_request", "POST takes ?increment=N (an integer)")
			return
		}
		n, e, err := h.st.Increment(ctx, ns, key, delta)
		if err != nil {
			WriteError(ctx, err)
			return
		}
		writeJSON(ctx, 200, map[string]any{"key": key, "value": n, "version": e.Version})
	case "DELETE":
		ifv, err := ifVersionArg(ctx)
		if err != nil {
			WriteError(ctx, err)
			return
		}
		if err := h.st.Delete(ctx, ns, key, ifv); err != nil {
			WriteError(ctx, err)
			return
		}
		writeJSON(ctx, 200, map[string]any{"deleted": key})
	default:
		methodNotAllowed(ctx, "GET, PUT, POST, DELETE")
	}
}

// ifVersionArg reads ?if-version=V or If-Match: "V".
func ifVersionArg(ctx *fasthttp.RequestCtx) (*uint64, error) {
	raw := string(ctx.QueryArgs().Peek("if-version"))
	if raw == "" {
		raw = strings.Trim(strings.TrimPrefix(string(ctx.Request.Header.Peek("If-Match")), "W/"), `"`)
	}
	if raw == "" {
		return nil, nil
	}
	v, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: if-version must be a non-negative integer", errBadRequest)
	}
	return &v, nil
}

func (h *kvAPI) put(ctx *fasthttp.RequestCtx, ns, key string) {
	var o kv.PutOptions
	if raw := string(ctx.QueryArgs().Peek("ttl")); raw != "" {
		secs, err := strconv.ParseFloat(raw, 64)
		if err != nil || secs <= 0 {
			writeJSONError(ctx, 400, "invalid_request", "ttl must be a positive number of seconds")
			return
		}
		o.TTL = time.Duration(secs * float64(time.Second))
	}
	ifv, err := ifVersionArg(ctx)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	o.IfVersion = ifv
	e, err := h.st.Put(ctx, ns, key, ctx.PostBody(), o)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	ctx.Response.Header.Set("ETag", strconv.Quote(strconv.FormatUint(e.Version, 10)))
	out := map[string]any{"namespace": ns, "key": key, "version": e.Version}
	if !e.Expires.IsZero() {
		out["expires"] = e.Expires.UTC()
	}
	writeJSON(ctx, 200, out)
}

func (h *kvAPI) list(ctx *fasthttp.RequestCtx, ns string) {
	if !ctx.IsGet() {
		methodNotAllowed(ctx, "GET")
		return
	}
	args := ctx.QueryArgs()
	o := kv.ListOptions{Prefix: string(args.Peek("prefix")), Cursor: string(args.Peek("cursor")), KeysOnly: string(args.Peek("values")) != "1"}
	if raw := string(args.Peek("limit")); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n <= 0 {
			writeJSONError(ctx, 400, "invalid_request", "limit must be a positive integer")
			return
		}
		o.Limit = n
	}
	page, err := h.st.List(ns, o)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	keys := make([]map[string]any, 0, len(page.Entries))
	for _, e := range page.Entries {
		k := map[string]any{"key": e.Key, "version": e.Version}
		if !e.Expires.IsZero() {
			k["expires"] = e.Expires.UTC()
		}
		if !o.KeysOnly {
			k["value"] = string(e.Value)
		}
		keys = append(keys, k)
	}
	writeJSON(ctx, 200, map[string]any{"namespace": ns, "keys": keys, "next_cursor": page.NextCursor})
}
