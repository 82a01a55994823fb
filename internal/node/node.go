package node

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wedge-run/wedge/internal/access"
	"github.com/wedge-run/wedge/internal/certs"
	"github.com/wedge-run/wedge/internal/cluster"
	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/gateway"
	"github.com/wedge-run/wedge/internal/invoke"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/logs"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
	"github.com/wedge-run/wedge/internal/storage"
	"github.com/wedge-run/wedge/internal/tracing"
	"github.com/wedge-run/wedge/model"
)

// Version is the wedge release.
const Version = "0.1.0"

// Config is everything `wedge serve` can set.
type Config struct {
	HTTPAddr  string // public gateway, default 127.0.0.1:8080
	AdminAddr string // admin API, default 127.0.0.1:8081
	// PublicListener and AdminListener, if set, are served instead of
	// listening on HTTPAddr and AdminAddr; the node closes them on Close
	// (and when Start fails).
	PublicListener, AdminListener net.Listener
	DataDir                       string // default ./wedge-data
	// KeepVersions is how many versions of each function are kept for
	// rollbacks (default storage.DefaultKeepVersions).
	KeepVersions int
	// ArtifactDir holds compiled native code; default <data>/artifacts.
	// Artifacts are content-addressed and written atomically, so several
	// nodes on one machine may share a directory: a node deletes nothing
	// from one given here. The default directory is the node's own, and
	// holds only what its live versions use.
	ArtifactDir string
	AdminToken  string // generated and stored in the data dir when empty
	NodeName    string // stored in the data dir; default host-XXXX

	GossipAddr string   // cluster: gossip bind address; empty = single node
	Join       []string // cluster: peers to join
	ClusterKey string   // cluster: base64 key for gossip encryption
	// ClusterPreset tunes failure detection: "lan" (default), "wan", or
	// "local" (fast probes, for clusters on one machine).
	ClusterPreset string

	MaxConcurrency int           // node-wide invocation limit (ceiling when adaptive); default from cores and memory
	MinConcurrency int           // adaptive floor
	PoolInstances  int           // instance slots of the pooling allocator; default 1000
	Adaptive       bool          // adjust the limit from observed latency
	QueueWait      time.Duration // how long a request may wait for a slot
	MemoryBudget   int64         // bytes the invocations in flight may reserve (their memory limits); 0: half the machine's memory; <0: none
	MaxBodyBytes   int           // public request body limit
	LogLines       int           // log lines kept per function
	AuditBytes     int64         // size at which <data>/audit.log is rotated; default 16 MiB
	RetryBackoff   time.Duration // first retry delay of a failed event delivery; default 1s

	TLS TLSConfig // the public gateway's HTTPS

	// Trace configures OpenTelemetry tracing (internal/tracing); its
	// zero value follows the OTEL_* environment, off when that names no
	// exporter and no sampler.
	Trace tracing.Config

	OutboundCA            string // PEM bundle trusted for guests' HTTPS besides the system roots
	OutboundMaxConcurrent int    // guests' outbound requests in flight on the node; default 256
	// OutboundResolver replaces DNS for guests' outbound requests (tests).
	OutboundResolver outbound.Resolver

	Log *slog.Logger
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	if c.AdminAddr == "" {
		c.AdminAddr = "127.0.0.1:8081"
	}
	if c.DataDir == "" {
		c.DataDir = "wedge-data"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Node is a running wedge node.
type Node struct {
	Config   Config
	DB       *storage.DB
	Engine   *runtime.Engine
	Registry *registry.Registry
	Logs     *logs.Store
	KV       *kv.Store
	Events   *events.Manager
	Gateway  *gateway.Server
	Invoke   *invoke.Service   // the one invoke path of HTTP requests and events
	Cluster  *cluster.Cluster  // nil for a single node
	Outbound *outbound.Client  // guests' outbound HTTP
	Tokens   *access.Tokens    // stored admin tokens (replicated through KV)
	Audit    *access.Audit     // the admin API's audit log
	Tracer   *tracing.Provider // nil when tracing is off
	replica  *cluster.StoreReplica
	// replication: the registry as the cluster replicates it.
	replication *registry.Replication
	// installing: functions from peers whose module is on its way.
	installing installing
	servingMu  servingLock

	// TokenFile is where a generated admin token was stored ("" if the
	// token was given).
	TokenFile string
	certFiles *certs.Files // nil without certificate files
	closers   []func() error
	ready     atomic.Bool
}

// Start opens the data directory, loads every deployed function and starts
// serving. ctx is checked between the steps of the start-up (after the
// functions are loaded, which may compile them, and before the cluster is
// joined); the node lives until Close, whatever becomes of ctx. On error
// everything opened so far is closed again, the listeners given in cfg
// included.
func Start(ctx context.Context, cfg Config) (_ *Node, err error) {
	cfg = cfg.WithDefaults()
	// n is not the named result: every `return nil, err` below sets that
	// to nil before the cleanup runs (which then panicked in Close).
	n := &Node{Config: cfg}
	defer func() {
		if err != nil {
			n.Close()
			// Start owns the listeners given: closed here whatever step
			// failed (a second Close of a listener only returns an error).
			for _, ln := range []net.Listener{cfg.PublicListener, cfg.AdminListener} {
				if ln != nil {
					ln.Close()
				}
			}
		}
	}()
	if n.DB, err = storage.Open(cfg.DataDir); err != nil {
		return nil, err
	}
	n.closers = append(n.closers, n.DB.Close)
	n.DB.SetKeepVersions(cfg.KeepVersions)
	if err = n.identity(); err != nil {
		return nil, err
	}
	if err = n.token(); err != nil {
		return nil, err
	}
	artifacts := cfg.ArtifactDir
	if artifacts == "" {
		artifacts = filepath.Join(cfg.DataDir, "artifacts")
	}
	if n.Engine, err = runtime.NewEngine(runtime.Config{CacheDir: artifacts, CollectArtifacts: cfg.ArtifactDir == "", PoolInstances: cfg.PoolInstances}); err != nil {
		return nil, err
	}
	n.closers = append(n.closers, noErr(n.Engine.Close))
	n.Logs = logs.New(cfg.LogLines)
	tc := cfg.Trace
	if tc.NodeName == "" {
		tc.NodeName = n.Config.NodeName
	}
	if n.Tracer, err = tracing.New(tc); err != nil {
		return nil, err
	}
	n.closers = append(n.closers, func() error { n.Tracer.Shutdown(); return nil })
	n.Events, err = events.Open(events.Options{DB: n.DB.Bolt(), Invoker: &invoker{n: n},
		ObjectsDir: filepath.Join(cfg.DataDir, "objects"), Log: cfg.Log, BackoffBase: cfg.RetryBackoff})
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, noErr(n.Events.Close))
	kv, kvRoutes, closeKV, err := openKV(n)
	if err != nil {
		return nil, err
	}
	if closeKV != nil {
		n.closers = append(n.closers, closeKV)
	}
	n.Outbound, err = outbound.New(outbound.Config{CAFile: cfg.OutboundCA, MaxConcurrent: cfg.OutboundMaxConcurrent,
		Resolver: cfg.OutboundResolver})
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, noErr(n.Outbound.CloseIdle))
	n.Registry = registry.New(registry.Options{Engine: n.Engine, DB: n.DB, Logs: n.Logs, KV: kv,
		Events: eventsBackend{n.Events}, Log: cfg.Log, Clock: n.KV.HLC(), Node: n.Config.NodeName, Outbound: n.Outbound})
	n.closers = append(n.closers, noErr(n.Registry.Close))
	n.Registry.OnChange(func(model.Function, bool) {
		if n.ready.Load() {
			n.syncTriggers()
		}
	})
	if err = n.Registry.Load(); err != nil {
		return nil, err
	}
	if err = ctx.Err(); err != nil {
		return nil, fmt.Errorf("node: start: %w", err)
	}
	// Never admit more invocations than the pool has instance slots: a
	// request past the pool would fail at instantiation instead of waiting
	// in the scheduler's queue.
	if pool := n.Engine.PoolInstances(); pool > 0 {
		limit := cfg.MaxConcurrency
		if limit <= 0 {
			limit = invoke.DefaultConcurrency()
		}
		cfg.MaxConcurrency = min(limit, pool)
	}
	n.Tokens = access.NewTokens(n.KV)
	n.closers = append(n.closers, noErr(n.Tokens.Close))
	if n.Audit, err = access.OpenAudit(cfg.DataDir, cfg.AuditBytes); err != nil {
		return nil, err
	}
	n.closers = append(n.closers, n.Audit.Close)
	n.Invoke = invoke.New(invoke.Config{MaxConcurrency: cfg.MaxConcurrency, MinConcurrency: cfg.MinConcurrency,
		Adaptive: cfg.Adaptive, QueueWait: cfg.QueueWait, MemoryBudget: cfg.MemoryBudget},
		invoke.Deps{Registry: n.Registry, Logs: n.Logs, Log: cfg.Log, Tracer: n.Tracer})
	gc := gateway.Config{
		PublicAddr: cfg.HTTPAddr, AdminAddr: cfg.AdminAddr, PublicListener: cfg.PublicListener, AdminListener: cfg.AdminListener,
		AdminToken: n.Config.AdminToken, MaxBodyBytes: cfg.MaxBodyBytes, MaxModuleBytes: n.Engine.MaxModuleBytes(),
		NodeName: n.Config.NodeName, Version: Version,
	}
	if err = n.tlsGateway(&gc); err != nil {
		return nil, err
	}
	n.Gateway, err = gateway.New(gc, gateway.Deps{Registry: n.Registry, Engine: n.Engine, Logs: n.Logs, DB: n.DB, Log: cfg.Log, Events: n.Events,
		Invoke: n.Invoke, Admin: append(append(kvRoutes, gateway.EventRoutes(n.Events, 64<<20)...), gateway.TraceRoutes(n.Tracer)...), Tokens: n.Tokens, Audit: n.Audit,
		Metrics: n.Outbound.WriteMetrics, Tracer: n.Tracer})
	if err != nil {
		return nil, err
	}
	n.Registry.OnAppChange(func(model.App, bool) { n.loadUploadRoutes() })
	n.loadUploadRoutes()
	if err = n.Gateway.Start(); err != nil {
		return nil, err
	}
	n.closers = append(n.closers, n.Gateway.Close)
	n.watchCerts()
	// No guest may reach the admin API, whatever its allow-list says.
	if err = n.Outbound.Protect(n.Gateway.AdminAddr()); err != nil {
		return nil, err
	}
	if err = ctx.Err(); err != nil {
		return nil, fmt.Errorf("node: start: %w", err)
	}
	if cfg.GossipAddr != "" {
		if err = n.startCluster(); err != nil {
			return nil, err
		}
		routes := n.Cluster.Handlers(n.DB.Blob)
		for _, r := range routes {
			n.Gateway.AddAdminRoutes(gateway.AdminRoute{Prefix: r.Prefix, Handler: r.Handler, PeerAuth: true})
		}
		n.Gateway.AddAdminRoutes(gateway.AdminRoute{Prefix: "/v1/cluster/keys", Handler: n.keysRoute})
		if err = n.checkACMESealing(); err != nil {
			return nil, err
		}
	}
	n.startConsole()
	// Events start flowing only now that everything they need exists.
	n.ready.Store(true)
	n.syncTriggers()
	return n, nil
}

// Close stops serving and closes everything, in reverse order of start.
// It returns the errors of the parts that failed to close, joined (nil
// when all closed cleanly). A second Close does nothing.
func (n *Node) Close() error {
	var errs []error
	for i := len(n.closers) - 1; i >= 0; i-- {
		if err := n.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	n.closers = nil
	return errors.Join(errs...)
}

// noErr adapts a close function that cannot fail.
func noErr(f func()) func() error { return func() error { f(); return nil } }

// PublicURL and AdminURL are the bound addresses as URLs.
func (n *Node) PublicURL() string { return "http://" + n.Gateway.PublicAddr() }
func (n *Node) AdminURL() string  { return "http://" + n.Gateway.AdminAddr() }

type identity struct {
	Name string `json:"name"`
}

// identity loads the node's name from the data dir, or stores a new one.
// A name given in the config wins and is remembered.
func (n *Node) identity() error {
	var id identity
	if _, err := n.DB.GetMeta("node", &id); err != nil {
		return err
	}
	switch {
	case n.Config.NodeName != "":
		id.Name = n.Config.NodeName
	case id.Name != "":
	default:
		host, _ := os.Hostname()
		host = strings.ToLower(strings.SplitN(host, ".", 2)[0])
		if host == "" {
			host = "node"
		}
		var b [3]byte
		rand.Read(b[:])
		id.Name = fmt.Sprintf("%s-%x", host, b)
	}
	n.Config.NodeName = id.Name
	return n.DB.PutMeta("node", id)
}

// token makes sure the admin API has a token: the configured one, else
// one stored in the data dir, else a new random one stored there.
func (n *Node) token() error {
	if n.Config.AdminToken != "" {
		return nil
	}
	path := filepath.Join(n.Config.DataDir, "admin-token")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		n.Config.AdminToken = strings.TrimSpace(string(b))
		n.TokenFile = path
		return nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var b [24]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return fmt.Errorf("node: storing admin token: %w", err)
	}
	n.Config.AdminToken = tok
	n.TokenFile = path
	return nil
}
