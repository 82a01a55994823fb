package gateway

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/access"
	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/invoke"
	"github.com/wedge-run/wedge/internal/logs"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/storage"
	"github.com/wedge-run/wedge/internal/tracing"
)

// Config configures both servers.
type Config struct {
	// PublicAddr and AdminAddr are listen addresses ("127.0.0.1:8080"),
	// used when the matching listener is nil.
	PublicAddr, AdminAddr string
	// PublicListener and AdminListener, if set, are served instead of
	// listening on the addresses (an embedder's own sockets). Close
	// closes them.
	PublicListener, AdminListener net.Listener
	// AdminToken guards the admin API. It must not be empty.
	AdminToken string
	// MaxBodyBytes bounds public request bodies (413 beyond). Default 8 MiB.
	MaxBodyBytes int
	// MaxModuleBytes bounds deployed modules (413 beyond). Default 64 MiB.
	MaxModuleBytes int
	// NodeName and Version are reported by /healthz and members.
	NodeName, Version string

	// HTTPSAddr, if set, is the public gateway's HTTPS listen address,
	// serving with TLS (required then; its GetCertificate picks the
	// certificate).
	HTTPSAddr string
	TLS       *tls.Config
	// RedirectHTTPS lists the hosts whose plain HTTP requests are
	// redirected to HTTPS (308): names, wildcards (*.example.com) or "*".
	RedirectHTTPS []string
	// HSTS adds Strict-Transport-Security to HTTPS responses.
	HSTS bool
	// Challenge, if set, may answer a plain HTTP request first (ACME
	// HTTP-01 challenges); it reports whether it did.
	Challenge func(ctx *fasthttp.RequestCtx) bool
}

// Deps are the node's components the gateway serves.
type Deps struct {
	Registry *registry.Registry
	Engine   *runtime.Engine
	Logs     *logs.Store
	DB       *storage.DB
	Events   *events.Manager
	// Invoke is the node's invoke path (lookup, admission, invocation,
	// logs); nil: one with default admission over Registry and Logs.
	Invoke *invoke.Service
	Log    *slog.Logger
	// Extra admin routes (KV, cluster) registered by other packages.
	Admin []AdminRoute
	// Metrics, if set, writes more metrics (Prometheus text format) to
	// /metrics after the node's own: the outbound client's, for example.
	Metrics func(w io.Writer)
	// Tokens are the stored admin tokens besides Config.AdminToken, and
	// Audit the log of admin requests; either may be nil.
	Tokens *access.Tokens
	Audit  *access.Audit
	// Tracer records spans of requests; nil: tracing off.
	Tracer *tracing.Provider
}

// Server runs the public gateway and the admin API.
type Server struct {
	cfg      Config
	reg      *registry.Registry
	engine   *runtime.Engine
	logs     *logs.Store
	db       *storage.DB
	events   *events.Manager
	log      *slog.Logger
	inv      *invoke.Service
	sched    *invoke.Scheduler
	metrics  *metrics
	ids      requestIDs
	extra    []AdminRoute
	extraMu  sync.Mutex
	tokens   *access.Tokens
	auditLog *access.Audit
	started  time.Time
	tracer   *tracing.Provider // nil: tracing off

	uploads     atomic.Pointer[uploadTable]
	forward     atomic.Pointer[Forwarder]
	installing  atomic.Pointer[Installing]
	owner       atomic.Pointer[Owner]
	pinned      pinnedFlight // pinned requests running here, for DrainPinned
	membersFn   atomic.Pointer[func() []MemberView]
	moreMetrics atomic.Pointer[func(io.Writer)]
	session     atomic.Pointer[func(*fasthttp.RequestCtx) (access.Token, bool)] // console.go

	public, admin     *fasthttp.Server
	publicLn, adminLn net.Listener
	https             *fasthttp.Server // nil without HTTPSAddr
	httpsLn           net.Listener
	redirect          []string
	done              chan struct{}
	closeOnce         sync.Once
	closeErr          []error // what Close could not do cleanly (requests still running at its deadline)
	wg                sync.WaitGroup
}

// New builds a Server; Start opens the listeners.
func New(cfg Config, d Deps) (*Server, error) {
	if cfg.AdminToken == "" {
		return nil, errors.New("gateway: an admin token is required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 8 << 20
	}
	if cfg.MaxModuleBytes <= 0 {
		cfg.MaxModuleBytes = 64 << 20
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	var prefix [4]byte
	rand.Read(prefix[:])
	s := &Server{
		cfg: cfg, reg: d.Registry, engine: d.Engine, logs: d.Logs, db: d.DB, log: d.Log, events: d.Events,
		metrics:  newMetrics(),
		ids:      requestIDs{prefix: hex.EncodeToString(prefix[:]) + "-"},
		extra:    d.Admin,
		tokens:   d.Tokens,
		auditLog: d.Audit,
		inv:      d.Invoke,
		tracer:   d.Tracer,
		done:     make(chan struct{}),
		started:  time.Now(),
	}
	if s.inv == nil {
		s.inv = invoke.New(invoke.Config{}, invoke.Deps{Registry: d.Registry, Logs: d.Logs, Log: d.Log})
	}
	s.sched = s.inv.Scheduler()
	if d.Metrics != nil {
		s.moreMetrics.Store(&d.Metrics)
	}
	s.public = &fasthttp.Server{
		Handler:                       s.recovering("public", s.servePublic),
		Name:                          "wedge",
		MaxRequestBodySize:            cfg.MaxBodyBytes,
		ReadTimeout:                   30 * time.Second,
		WriteTimeout:                  30 * time.Second,
		IdleTimeout:                   60 * time.Second,
		NoDefaultDate:                 false,
		DisableHeaderNamesNormalizing: false,
		ErrorHandler:                  s.publicError,
		Logger:                        fasthttpLogger{d.Log},
	}
	if cfg.Challenge != nil || len(cfg.RedirectHTTPS) > 0 {
		s.public.Handler = s.recovering("public", s.servePlain)
		s.redirect = cfg.RedirectHTTPS
	}
	if cfg.HTTPSAddr != "" {
		if cfg.TLS == nil {
			return nil, errors.New("gateway: an HTTPS address needs a TLS configuration")
		}
		s.https = s.newHTTPS()
	}
	s.admin = &fasthttp.Server{
		Handler:            s.recovering("admin", s.serveAdmin),
		Name:               "wedge-admin",
		MaxRequestBodySize: cfg.MaxModuleBytes + 1<<20,
		ReadTimeout:        60 * time.Second,
		IdleTimeout:        60 * time.Second,
		ErrorHandler:       s.adminError,
		Logger:             fasthttpLogger{d.Log},
	}
	return s, nil
}

// Start listens on both addresses (or takes the configured listeners)
// and serves in the background.
func (s *Server) Start() error {
	var err error
	if s.publicLn = s.cfg.PublicListener; s.publicLn == nil {
		if s.publicLn, err = net.Listen("tcp", s.cfg.PublicAddr); err != nil {
			s.closeGiven()
			return fmt.Errorf("public gateway: %w", err)
		}
	}
	if s.adminLn = s.cfg.AdminListener; s.adminLn == nil {
		if s.adminLn, err = net.Listen("tcp", s.cfg.AdminAddr); err != nil {
			s.publicLn.Close()
			s.closeGiven()
			return fmt.Errorf("admin API: %w", err)
		}
	}
	if s.https != nil {
		if s.httpsLn, err = s.listenHTTPS(); err != nil {
			s.publicLn.Close()
			s.adminLn.Close()
			return err
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); _ = s.https.Serve(s.httpsLn) }()
	}
	// headGuard answers a bare-LF request head at once (barelf.go).
	s.publicLn, s.adminLn = headGuardListener{s.publicLn}, headGuardListener{s.adminLn}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); _ = s.public.Serve(s.publicLn) }()
	go func() { defer s.wg.Done(); _ = s.admin.Serve(s.adminLn) }()
	return nil
}

// PublicAddr and AdminAddr are the bound addresses (useful with port 0).
func (s *Server) PublicAddr() string { return s.publicLn.Addr().String() }
func (s *Server) AdminAddr() string  { return s.adminLn.Addr().String() }

// closeGiven closes the listeners the config handed over, when Start
// fails: Start owns them from its call.
func (s *Server) closeGiven() {
	for _, ln := range []net.Listener{s.cfg.PublicListener, s.cfg.AdminListener} {
		if ln != nil {
			ln.Close()
		}
	}
}

// Close stops accepting, ends log followers and waits for requests in
// flight to finish (bounded by the servers' timeouts). It returns the
// servers' shutdown errors, joined: requests still running after 10 s.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		if err := s.public.ShutdownWithContext(shutdownCtx(10 * time.Second)); err != nil {
			s.closeErr = append(s.closeErr, fmt.Errorf("public gateway: %w", err))
		}
		if err := s.admin.ShutdownWithContext(shutdownCtx(10 * time.Second)); err != nil {
			s.closeErr = append(s.closeErr, fmt.Errorf("admin API: %w", err))
		}
		if s.httpsLn != nil {
			if err := s.https.ShutdownWithContext(shutdownCtx(10 * time.Second)); err != nil {
				s.closeErr = append(s.closeErr, fmt.Errorf("HTTPS gateway: %w", err))
			}
			s.httpsLn.Close()
		}
		// Shutdown closes only the listeners Serve has registered: a
		// Close soon after Start (a node whose start fails after the
		// gateway's) may come before the Serve goroutines ran, and they
		// would then accept forever. A closed listener ends them.
		s.publicLn.Close()
		s.adminLn.Close()
		s.wg.Wait()
	})
	return errors.Join(s.closeErr...)
}

func (s *Server) publicError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		ctx.SetStatusCode(fasthttp.StatusRequestEntityTooLarge)
		ctx.SetContentType("text/plain; charset=utf-8")
		fmt.Fprintf(ctx, "request body too large: the limit is %d bytes\n", s.cfg.MaxBodyBytes)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusBadRequest)
	ctx.SetContentType("text/plain; charset=utf-8")
	if errors.Is(err, errBareLF) {
		fmt.Fprintf(ctx, "bad request: %v\n", errBareLF)
		return
	}
	fmt.Fprintf(ctx, "bad request\n")
}

func (s *Server) adminError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeJSONError(ctx, fasthttp.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("request body too large: modules are limited to %d bytes", s.cfg.MaxModuleBytes))
		return
	}
	if errors.Is(err, errBareLF) {
		writeJSONError(ctx, fasthttp.StatusBadRequest, "invalid_request", "malformed HTTP request: "+errBareLF.Error())
		return
	}
	writeJSONError(ctx, fasthttp.StatusBadRequest, "invalid_request", "malformed HTTP request")
}

type counter struct{ v atomic.Uint64 }

func (c *counter) add() uint64 { return c.v.Add(1) }
