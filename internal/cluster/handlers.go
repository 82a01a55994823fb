package cluster

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/wedge-run/wedge/internal/kv"
)

// Route is one node-to-node HTTP handler, to mount on the admin server:
// requests whose path starts with Prefix go to Handler. It has the
// fields of gateway.AdminRoute, so a conversion suffices. The handlers
// check the peer signature themselves (PeerAuthHeader) and answer 401
// without it: mount them where the admin token is not required.
type Route struct {
	Prefix  string
	Handler func(ctx *fasthttp.RequestCtx)
}

// InternalPrefix is the path prefix of every route Handlers returns.
const InternalPrefix = "/v1/internal/"

// Handlers returns the node-to-node HTTP handlers:
//
//	GET  /v1/internal/blobs/{sha256}          the module blob (blob(sha)); 404 if blob fails
//	GET  /v1/internal/functions/{name}        the function record, JSON (for records too large for gossip)
//	GET  /v1/internal/functions/              every function record, JSON (a repair after digests differed)
//	GET  /v1/internal/kv/{ns}?entries[&after=K][&limit=N]
//	                                          a page of the namespace's entries (EntryMeta, binary)
//	POST /v1/internal/kv/{ns}?records         body: keys; answer: their records (binary changes),
//	                                          X-Wedge-Keys-Done: how many keys were handled
//	POST /v1/internal/keys                    body: a sealed key operation (keyops.go); answer: NodeKeys
//	POST /v1/internal/takeover/{function}     the signer takes over function's keys; answered (200,
//	                                          empty) once this node's pinned requests of it drained
//	POST /v1/internal/handback/{function}     the signer is leaving and drained: answered once this
//	                                          node repaired the function's namespaces from it
//
// blob returns the bytes of a stored blob, or an error (any error is a
// 404 to the peer, which then asks another node).
func (c *Cluster) Handlers(blob func(sha string) ([]byte, error)) []Route {
	return []Route{
		{Prefix: InternalPrefix + "blobs/", Handler: c.authed(func(ctx *fasthttp.RequestCtx) { c.serveBlob(ctx, blob) })},
		{Prefix: InternalPrefix + "functions/", Handler: c.authed(c.serveFunction)},
		{Prefix: InternalPrefix + "kv/", Handler: c.authed(c.serveKV)},
		{Prefix: InternalPrefix + "keys", Handler: c.authed(c.serveKeys)},
		{Prefix: InternalPrefix + "takeover/", Handler: c.authedFrom(c.serveTakeover)},
		{Prefix: InternalPrefix + "handback/", Handler: c.authedFrom(c.serveHandback)},
	}
}

// authed wraps h with the peer signature check.
func (c *Cluster) authed(h func(ctx *fasthttp.RequestCtx)) func(ctx *fasthttp.RequestCtx) {
	return c.authedFrom(func(ctx *fasthttp.RequestCtx, _ string) { h(ctx) })
}

// authedFrom wraps h with the peer signature check; h gets the name of
// the signing node.
func (c *Cluster) authedFrom(h func(ctx *fasthttp.RequestCtx, from string)) func(ctx *fasthttp.RequestCtx) {
	return func(ctx *fasthttp.RequestCtx) {
		hdr := string(ctx.Request.Header.Peek(PeerAuthHeader))
		from, err := c.verifyPeer(hdr, ctx)
		if err != nil {
			c.stats.authFailures.Add(1)
			c.log.Warn("cluster: rejected internal request", "path", string(ctx.Path()), "remote", ctx.RemoteAddr().String(), "err", err)
			writeError(ctx, fasthttp.StatusUnauthorized, "unauthorized", err.Error())
			return
		}
		h(ctx, from)
	}
}

// verifyPeer checks a request's signature under each accepted secret,
// then that its nonce is new, and returns the signing node's name.
func (c *Cluster) verifyPeer(hdr string, ctx *fasthttp.RequestCtx) (string, error) {
	now := c.clock.Now()
	r, err := verifyPeer(c.secrets.Load().verify, hdr, c.cfg.NodeName, string(ctx.Method()), string(ctx.RequestURI()), ctx.PostBody(), now)
	if err != nil {
		return "", err
	}
	if err := c.replays.accept(r.nonce, r.unixMilli, now); err != nil {
		c.stats.replays.Add(1)
		return "", err
	}
	return r.from, nil
}

func writeError(ctx *fasthttp.RequestCtx, status int, code, msg string) {
	ctx.ResetBody()
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	b, _ := json.Marshal(map[string]string{"error": msg, "code": code})
	ctx.SetBody(b)
}

func (c *Cluster) serveBlob(ctx *fasthttp.RequestCtx, blob func(string) ([]byte, error)) {
	if !ctx.IsGet() {
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "allowed: GET")
		return
	}
	sha := strings.TrimPrefix(string(ctx.Path()), InternalPrefix+"blobs/")
	if !ValidSHA256(sha) {
		writeError(ctx, fasthttp.StatusBadRequest, "bad_request", "not a lower-case hex sha256: "+sha)
		return
	}
	if blob == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "this node serves no blobs")
		return
	}
	b, err := blob(sha)
	if err != nil || b == nil {
		msg := "blob " + sha + " not found"
		if err != nil {
			msg += ": " + err.Error()
		}
		writeError(ctx, fasthttp.StatusNotFound, "not_found", msg)
		return
	}
	ctx.SetContentType("application/wasm")
	ctx.SetBody(b)
}

func (c *Cluster) serveFunction(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() {
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "allowed: GET")
		return
	}
	name := strings.TrimPrefix(string(ctx.Path()), InternalPrefix+"functions/")
	if name == "" {
		// Every record, for a repair (tombstones included but settled ones).
		horizon := c.horizon()
		out := []wireFunction{}
		if c.reg != nil {
			for _, r := range c.reg.Records() {
				if !r.Deleted || !r.Stamp.Less(horizon) {
					out = append(out, toWire(r))
				}
			}
		}
		b, _ := json.Marshal(out)
		ctx.SetContentType("application/json")
		ctx.SetBody(b)
		return
	}
	if c.reg != nil {
		for _, r := range c.reg.Records() {
			if r.Name == name {
				b, _ := json.Marshal(toWire(r))
				ctx.SetContentType("application/json")
				ctx.SetBody(b)
				return
			}
		}
	}
	writeError(ctx, fasthttp.StatusNotFound, "not_found", "no record of function "+strconv.Quote(name))
}

func (c *Cluster) serveKV(ctx *fasthttp.RequestCtx) {
	ns := strings.TrimPrefix(string(ctx.Path()), InternalPrefix+"kv/")
	if !kv.ValidNamespace(ns) {
		writeError(ctx, fasthttp.StatusBadRequest, "bad_request", "invalid namespace "+strconv.Quote(ns))
		return
	}
	if c.kv == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "this node does not replicate kv")
		return
	}
	args := ctx.QueryArgs()
	switch {
	case args.Has("entries") && ctx.IsGet():
		c.serveEntries(ctx, ns)
	case args.Has("records") && ctx.IsPost():
		c.serveRecords(ctx, ns)
	default:
		writeError(ctx, fasthttp.StatusBadRequest, "bad_request", "want GET ?entries or POST ?records")
	}
}

func (c *Cluster) serveEntries(ctx *fasthttp.RequestCtx, ns string) {
	args := ctx.QueryArgs()
	limit := entriesPageLimit
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 {
			writeError(ctx, fasthttp.StatusBadRequest, "bad_request", "bad limit")
			return
		}
		limit = min(n, entriesPageLimit)
	}
	entries, more, err := c.kv.Entries(ns, string(args.Peek("after")), limit, c.horizon())
	if err != nil {
		c.log.Error("cluster: listing kv entries for a peer", "ns", ns, "err", err)
		writeError(ctx, fasthttp.StatusInternalServerError, "internal", "listing entries failed")
		return
	}
	ctx.SetContentType("application/octet-stream")
	ctx.SetBody(appendEntries(nil, entries, more))
}

func (c *Cluster) serveRecords(ctx *fasthttp.RequestCtx, ns string) {
	r := reader{b: ctx.PostBody()}
	var keys []string
	for len(r.b) > 0 && r.err == nil && len(keys) < recordsBatchKeys {
		keys = append(keys, r.str())
	}
	if r.err != nil || len(keys) == 0 || len(r.b) > 0 {
		writeError(ctx, fasthttp.StatusBadRequest, "bad_request", "body must hold 1 to "+strconv.Itoa(recordsBatchKeys)+" length-prefixed keys")
		return
	}
	var out []byte
	done := 0
	for _, k := range keys {
		if done > 0 && len(out) >= maxRecordsBody {
			break
		}
		done++
		rec, err := c.kv.Export(ns, k)
		if errors.Is(err, kv.ErrNotFound) {
			continue
		}
		if err != nil {
			c.log.Error("cluster: exporting kv record for a peer", "ns", ns, "key", k, "err", err)
			writeError(ctx, fasthttp.StatusInternalServerError, "internal", "export failed")
			return
		}
		rec.Namespace, rec.Key = ns, k
		out = appendChange(out, &rec)
	}
	ctx.Response.Header.Set(keysDoneHeader, strconv.Itoa(done))
	ctx.SetContentType("application/octet-stream")
	ctx.SetBody(out)
}
