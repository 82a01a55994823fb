package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"mime"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/access"
	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/gateway"
	"github.com/wedge-run/wedge/internal/kv"
)

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every console response: only
// this origin's files, no inline script or style, no plugins, no framing,
// and no string reaching a DOM sink that runs script (Trusted Types: the
// script builds its DOM with textContent and attributes, never HTML).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// Options configure a Console.
type Options struct {
	// LookupToken returns the token whose secret is given, if this node
	// accepts it (the node's admin token or a stored one): the tokens
	// that may sign in. TokenByHash does the same by the secret's hash
	// (access.Hash), for sessions: a session lives while its token does.
	LookupToken func(secret string) (access.Token, bool)
	TokenByHash func(hash string) (access.Token, bool)
	// KV keeps the sessions (SessionsNamespace), replicated to the
	// cluster like the tokens.
	KV *kv.Store
	// Counters reads the gateway's per-function counters; Bounds are
	// their latency buckets' bounds (gateway.LatencyBounds).
	Counters func() map[string]gateway.FunctionCounters
	Bounds   []float64
	// Events lists queues, schedules and buckets; nil: none.
	Events *events.Manager
	// Affinity lists the functions with affinity and the nodes serving
	// them; OwnerOf names the node that owns a key of one. Nil on a node
	// outside a cluster (it owns every key of its functions).
	Affinity func() []Affinity
	OwnerOf  func(function, key string) (node string, ok bool)
	// NodeName is this node's name.
	NodeName string
	// Interval and Samples shape the charts' history (default 10 s x 360:
	// the last hour). SessionTTL bounds a session (default 12 h).
	Interval   time.Duration
	Samples    int
	SessionTTL time.Duration
	Now        func() time.Time
	Log        *slog.Logger
}

// Affinity is a function served on one node per key, and the nodes that
// serve it (the owner candidates).
type Affinity struct {
	Function string   `json:"function"`
	Pattern  string   `json:"affinity"`
	Serving  []string `json:"serving"`
}

// Console serves the web console and its session.
type Console struct {
	opt      Options
	sessions *sessions
	history  *history
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

// New builds a Console and starts sampling the counters; Close stops it.
func New(opt Options) *Console {
	if opt.Interval <= 0 {
		opt.Interval = 10 * time.Second
	}
	if opt.Samples <= 0 {
		opt.Samples = 360
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	c := &Console{opt: opt, sessions: &sessions{kv: opt.KV, ttl: opt.SessionTTL, now: opt.Now, node: opt.NodeName, byHash: opt.TokenByHash},
		history: newHistory(opt.Interval, opt.Samples, opt.Bounds), stop: make(chan struct{})}
	c.wg.Add(1)
	go c.sample()
	return c
}

// Close stops the sampler.
func (c *Console) Close() error {
	c.once.Do(func() { close(c.stop) })
	c.wg.Wait()
	return nil
}

func (c *Console) sample() {
	defer c.wg.Done()
	c.history.record(c.opt.Now(), c.opt.Counters())
	t := time.NewTicker(c.opt.Interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.history.record(c.opt.Now(), c.opt.Counters())
		}
	}
}

// Routes are the console's admin routes: the page and its session
// (which authenticate themselves), and its read endpoints (behind the
// admin API's authentication).
func (c *Console) Routes() []gateway.AdminRoute {
	return []gateway.AdminRoute{
		{Prefix: "/console", Handler: c.serve, SelfAuth: true},
		{Prefix: "/v1/console/", Handler: c.api},
	}
}

// Authorize is the admin API's second way in (gateway.SetSessionAuth):
// a live session cookie, and for any method but GET and HEAD the CSRF
// header. It returns the token the session stands for; the admin API
// then applies that token's scope as it would to the token itself.
func (c *Console) Authorize(ctx *fasthttp.RequestCtx) (access.Token, bool) {
	tok, _, ok := c.sessions.valid(string(ctx.Request.Header.Cookie(cookieName)))
	if !ok {
		return access.Token{}, false
	}
	if !ctx.IsGet() && !ctx.IsHead() && string(ctx.Request.Header.Peek(csrfHeader)) != "1" {
		return access.Token{}, false
	}
	return tok, true
}

// secure sets the headers every console response carries.
func secure(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// serve answers /console: the page, its files and the session.
func (c *Console) serve(ctx *fasthttp.RequestCtx) {
	secure(ctx)
	p := string(ctx.Path())
	switch {
	case p == "/console":
		ctx.Redirect("/console/", fasthttp.StatusFound)
	case p == "/console/session":
		ctx.Response.Header.Set("Cache-Control", "no-store")
		c.session(ctx)
	case strings.HasPrefix(p, "/console/"):
		c.asset(ctx, strings.TrimPrefix(p, "/console/"))
	default:
		gateway.WriteJSONError(ctx, 404, "not_found", "no such endpoint: "+p)
	}
}

func (c *Console) asset(ctx *fasthttp.RequestCtx, name string) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		gateway.WriteJSONError(ctx, 405, "method_not_allowed", "allowed: GET, HEAD")
		return
	}
	if name == "" {
		name = "index.html"
	}
	b, err := fs.ReadFile(static, "static/"+path.Clean(name))
	if err != nil || strings.Contains(name, "..") {
		gateway.WriteJSONError(ctx, 404, "not_found", "no such file: "+name)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	ctx.SetContentType(ct)
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetBody(b)
}

// session serves /console/session: GET says whether this browser is
// signed in, and with which token (401 if not), POST {"token": ...}
// signs in, DELETE signs out.
func (c *Console) session(ctx *fasthttp.RequestCtx) {
	id := string(ctx.Request.Header.Cookie(cookieName))
	switch string(ctx.Method()) {
	case "GET":
		tok, exp, ok := c.sessions.valid(id)
		if !ok {
			gateway.WriteJSONError(ctx, 401, "unauthorized", "not signed in")
			return
		}
		gateway.WriteJSON(ctx, 200, c.sessionView(tok, exp))
	case "POST":
		if string(ctx.Request.Header.Peek(csrfHeader)) != "1" {
			gateway.WriteJSONError(ctx, 403, "forbidden", "sign in from the console page (the "+csrfHeader+" header is missing)")
			return
		}
		var in struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(ctx.PostBody(), &in); err != nil {
			gateway.WriteJSONError(ctx, 400, "invalid_request", `send {"token": "..."}`)
			return
		}
		secret := strings.TrimSpace(in.Token)
		tok, ok := access.Token{}, false
		if secret != "" {
			tok, ok = c.opt.LookupToken(secret)
		}
		if !ok {
			c.opt.Log.Warn("console: sign-in refused", "remote", ctx.RemoteAddr().String())
			gateway.WriteJSONError(ctx, 401, "unauthorized", "this node accepts no such token (use the admin token or one made with wedge tokens create)")
			return
		}
		sid, exp, err := c.sessions.create(ctx, tok, access.Hash(secret))
		if err != nil {
			c.opt.Log.Error("console: sign-in failed", "token", tok.Name, "err", err)
			gateway.WriteJSONError(ctx, 503, "unavailable", "the session could not be stored; try again")
			return
		}
		c.opt.Log.Info("console: signed in", "token", tok.Name, "scope", tok.Scope, "remote", ctx.RemoteAddr().String())
		setCookie(ctx, sid, exp)
		gateway.WriteJSON(ctx, 200, c.sessionView(tok, exp))
	case "DELETE":
		if _, _, ok := c.sessions.valid(id); !ok || string(ctx.Request.Header.Peek(csrfHeader)) != "1" {
			gateway.WriteJSONError(ctx, 401, "unauthorized", "not signed in")
			return
		}
		if err := c.sessions.revoke(ctx, id); err != nil {
			c.opt.Log.Error("console: sign-out failed", "err", err)
			gateway.WriteJSONError(ctx, 503, "unavailable", "the session could not be ended; try again")
			return
		}
		setCookie(ctx, "", time.Unix(0, 0))
		gateway.WriteJSON(ctx, 200, map[string]any{"signed_in": false})
	default:
		ctx.Response.Header.Set("Allow", "GET, POST, DELETE")
		gateway.WriteJSONError(ctx, 405, "method_not_allowed", "allowed: GET, POST, DELETE")
	}
}

// sessionView is what the page learns of its session: the token's name,
// scope and functions pattern, so that it offers only what the token may
// do (the admin API enforces it regardless).
func (c *Console) sessionView(tok access.Token, exp time.Time) map[string]any {
	return map[string]any{"signed_in": true, "expires": exp.UTC(), "node": c.opt.NodeName,
		"token": tok.Name, "scope": tok.Scope, "functions": tok.Functions}
}

// setCookie sets the session cookie: HTTP-only, SameSite=Strict, Secure
// when the request came over TLS, for the whole admin API (Path=/).
func setCookie(ctx *fasthttp.RequestCtx, id string, exp time.Time) {
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey(cookieName)
	ck.SetValue(id)
	ck.SetPath("/")
	ck.SetHTTPOnly(true)
	ck.SetSameSite(fasthttp.CookieSameSiteStrictMode)
	ck.SetSecure(ctx.IsTLS())
	ck.SetExpire(exp)
	ctx.Response.Header.SetCookie(ck)
}
