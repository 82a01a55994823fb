package registry

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
	"github.com/wedge-run/wedge/internal/storage"
)

// Errors the admin API maps to statuses.
var (
	ErrNotFound       = errors.New("function not found")
	ErrInvalidName    = errors.New("invalid function name")
	ErrRouteConflict  = errors.New("route conflict")
	ErrInvalidLimits  = errors.New("invalid limits")
	ErrInvalidTrigger = errors.New("invalid trigger")
	// ErrReservedNamespace: a function may not own or be granted the
	// node's reserved KV namespaces (kv.Reserved).
	ErrReservedNamespace = errors.New("reserved KV namespace")
)

// ErrSuperseded is returned by Deploy for a replicated change (a request
// with a Stamp) that is not newer than what this node holds for the
// function, its live version or its tombstone: nothing changed.
var ErrSuperseded = errors.New("a newer version or delete is already here")

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidateName checks a function name: 1 to 63 characters of lower-case
// letters, digits, '-' and '_', starting with a letter or digit.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w %q: use 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit", ErrInvalidName, name)
	}
	return nil
}

// Function is one deployed, servable version.
type Function struct {
	Record storage.Function
	Module *runtime.Module
	Env    *runtime.Env
}

// Options wires a Registry.
type Options struct {
	Engine *runtime.Engine
	DB     *storage.DB
	Logs   runtime.LogSink
	KV     runtime.KV
	Events runtime.Events
	Log    *slog.Logger
	// Clock stamps local changes for cluster-wide ordering; Node names
	// this node as their origin.
	Clock *hlc.Clock
	Node  string
	// Outbound is the node's HTTP client for guests; nil turns the
	// outbound calls off.
	Outbound *outbound.Client
}

// Registry is the node's set of served functions.
type Registry struct {
	opt  Options
	mu   sync.Mutex // serializes changes
	live atomic.Pointer[table]

	listenMu  sync.Mutex
	listeners []func(rec storage.Function, deleted bool)

	// artifacts is the set of module sha256s the live versions use (each
	// version's module and its snapshot): the artifacts the engine keeps
	// (artifacts.go). Updated with every change of the live table, but not
	// by Close, so shutting down deletes nothing.
	artifacts atomic.Pointer[map[string]bool]
}

// OnChange registers fn to be called after every deploy or delete (with
// the new record, or the removed one and deleted=true), and after Load
// (with a zero record).
func (r *Registry) OnChange(fn func(rec storage.Function, deleted bool)) {
	r.listenMu.Lock()
	r.listeners = append(r.listeners, fn)
	r.listenMu.Unlock()
}

func (r *Registry) notify(rec storage.Function, deleted bool) {
	r.listenMu.Lock()
	ls := append([]func(storage.Function, bool){}, r.listeners...)
	r.listenMu.Unlock()
	for _, fn := range ls {
		fn(rec, deleted)
	}
}

type table struct {
	byName map[string]*Function
	routes *routeTable
}

// New returns an empty registry; call Load to serve what storage holds.
func New(opt Options) *Registry {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	r := &Registry{opt: opt}
	r.live.Store(&table{byName: map[string]*Function{}, routes: newRouteTable()})
	return r
}

// Load serves every stored function, loading native code from the
// artifact cache and compiling only what is missing there. A function
// that fails to load is logged and skipped, never fatal.
func (r *Registry) Load() error {
	recs, err := r.opt.DB.ListFunctions()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	next := r.cloneTable()
	for _, rec := range recs {
		mod, err := r.opt.Engine.Load(rec.ServedSHA())
		if err != nil {
			blob, berr := r.opt.DB.Blob(rec.ServedSHA())
			if berr != nil {
				r.opt.Log.Error("function not loaded: module blob missing", "function", rec.Name, "err", berr)
				continue
			}
			if mod, err = r.opt.Engine.Compile(blob); err != nil {
				r.opt.Log.Error("function not loaded: compile failed", "function", rec.Name, "err", err)
				continue
			}
		}
		f := &Function{Record: rec, Module: mod, Env: r.env(rec)}
		next.byName[rec.Name] = f
	}
	next.rebuildRoutes()
	r.live.Store(next)
	r.trackArtifacts(next)
	r.opt.Engine.KeepArtifacts(r.keepsArtifact)
	r.collectArtifacts()
	go r.notify(storage.Function{}, false)
	return nil
}

// DeployRequest describes a new function or version.
type DeployRequest struct {
	Name        string
	Wasm        []byte
	Routes      []string
	Limits      storage.Limits
	Config      map[string]string
	KVNamespace string
	KVGrants    []string
	// AllowedHosts are the outbound HTTP destinations the function may
	// reach ("https://api.example.com", "https://*.example.org:8443").
	AllowedHosts []string
	Secrets      map[string]string
	Triggers     []storage.Trigger
	App          string
	// NoSnapshot serves the module as is, running _initialize on every
	// request, instead of a deploy-time snapshot.
	NoSnapshot bool
	// JS means Wasm holds a JavaScript module (worker.js) rather than a
	// WebAssembly module; see js.go.
	JS bool `json:",omitempty"`
	// Affinity is a path pattern whose requests a cluster serves on one
	// node per key (affinity.go); "" means any node.
	Affinity string
	// Stamp and Origin are set when applying a change replicated from
	// another node; local deploys are stamped by the registry.
	Stamp  hlc.Timestamp `json:"-"`
	Origin string        `json:"-"`
	// Snapshot and SnapshotWasm, when both set, are the pre-initialized
	// module the node that deployed the function made from Wasm (a
	// replicated change): it is compiled and served as is, instead of
	// running the initializer again here. It must match Snapshot.SHA256;
	// if it does not, or does not compile, the registry makes its own.
	Snapshot     *storage.Snapshot `json:"-"`
	SnapshotWasm []byte            `json:"-"`
}

// Deploy validates, compiles, persists and publishes a function. It
// returns the stored record and whether it was newly created. Nothing is
// stored or changed when it fails.
func (r *Registry) Deploy(req DeployRequest) (storage.Function, bool, error) {
	p, err := r.prepare(req)
	if err != nil {
		return storage.Function{}, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// A replicated version was found newer before it was fetched and
	// compiled, which takes a while: a local delete or deploy, or
	// another replicated change, may have landed since. Checked again
	// here, under the lock, or an older version would replace a newer
	// one (and its tombstone) on this node.
	if !req.Stamp.IsZero() && !r.newerThanHeld(req.Name, req.Stamp, req.Origin) {
		p.mod.Release()
		return storage.Function{}, false, fmt.Errorf("%w: %q", ErrSuperseded, req.Name)
	}
	if err := r.checkRoutes([]*prepared{p}, nil); err != nil {
		p.mod.Release()
		return storage.Function{}, false, err
	}
	recs, created, err := r.commit([]*prepared{p}, nil)
	if err != nil {
		return storage.Function{}, false, err
	}
	return recs[0], created[0], nil
}

// prepared is a validated, compiled function not yet published.
type prepared struct {
	rec   storage.Function
	mod   *runtime.Module
	blobs [][]byte
}

// prepare validates req and compiles (and pre-initializes) its module,
// without changing anything.
func (r *Registry) prepare(req DeployRequest) (*prepared, error) {
	if err := jsModule(&req); err != nil { // js.go
		return nil, err
	}
	rec, err := r.record(req)
	if err != nil {
		return nil, err
	}
	mod, snap, snapBlob, err := r.shippedSnapshot(req, rec)
	if mod == nil && err == nil {
		mod, snap, snapBlob, err = r.compile(req.Wasm, rec, scriptOf(req))
	}
	if err != nil {
		return nil, err
	}
	rec.Entry = mod.Entry.String()
	rec.Snapshot = snap
	blobs := [][]byte{req.Wasm}
	if snapBlob != nil {
		blobs = append(blobs, snapBlob)
	}
	return &prepared{rec: rec, mod: mod, blobs: blobs}, nil
}

// record validates req and builds the record it would store.
func (r *Registry) record(req DeployRequest) (storage.Function, error) {
	if err := ValidateName(req.Name); err != nil {
		return storage.Function{}, err
	}
	routes, err := normalizeRoutes(req.Routes)
	if err != nil {
		return storage.Function{}, err
	}
	for i, t := range req.Triggers {
		if err := events.ValidateTrigger(t); err != nil {
			return storage.Function{}, fmt.Errorf("%w: trigger %d: %v", ErrInvalidTrigger, i, err)
		}
	}
	if err := ValidateAffinity(req.Affinity, routes); err != nil {
		return storage.Function{}, err
	}
	if err := checkLimits(req.Limits); err != nil {
		return storage.Function{}, err
	}
	allowed, err := normalizeAllowedHosts(req.AllowedHosts)
	if err != nil {
		return storage.Function{}, err
	}
	ns := req.KVNamespace
	if ns == "" {
		ns = req.Name
	}
	for _, n := range append([]string{ns}, req.KVGrants...) {
		if kv.Reserved(n) {
			return storage.Function{}, fmt.Errorf("%w %q: names starting with %q belong to the node", ErrReservedNamespace, n, kv.ReservedPrefix)
		}
	}
	stamp, origin := req.Stamp, req.Origin
	if stamp.IsZero() {
		stamp, origin = r.stamp()
	}
	return storage.Function{
		Stamp: stamp, Origin: origin,
		Name: req.Name, SHA256: SHA(req.Wasm), Size: len(req.Wasm), Routes: routes,
		Limits: req.Limits, Config: req.Config,
		KVNamespace: ns, KVGrants: req.KVGrants, App: req.App, AllowedHosts: allowed,
		Secrets: req.Secrets, Triggers: req.Triggers, NoSnapshot: req.NoSnapshot, Affinity: req.Affinity,
	}, nil
}

// checkRoutes refuses routes owned by a function outside the set being
// deployed (or removed). Caller holds r.mu.
func (r *Registry) checkRoutes(ps []*prepared, removing map[string]bool) error {
	cur := r.live.Load()
	names := map[string]bool{}
	for _, p := range ps {
		names[p.rec.Name] = true
	}
	claimed := map[string]string{}
	for _, p := range ps {
		for _, rt := range p.rec.Routes {
			if owner, ok := cur.routes.owner[rt]; ok && !names[owner] && !removing[owner] {
				return fmt.Errorf("%w: route %s belongs to function %q", ErrRouteConflict, rt, owner)
			}
			if other, ok := claimed[rt]; ok {
				return fmt.Errorf("%w: route %s is claimed by both %q and %q", ErrRouteConflict, rt, other, p.rec.Name)
			}
			claimed[rt] = p.rec.Name
		}
	}
	return nil
}

// commit persists and publishes prepared functions and removes others,
// in one swap of the live table. Caller holds r.mu.
func (r *Registry) commit(ps []*prepared, remove []string) ([]storage.Function, []bool, error) {
	var recs []storage.Function
	var created []bool
	for i, p := range ps {
		rec, existed, err := r.opt.DB.PutFunction(p.rec, p.blobs...)
		if err != nil {
			for _, q := range ps[i:] {
				q.mod.Release()
			}
			return nil, nil, err
		}
		p.rec = rec
		recs = append(recs, rec)
		created = append(created, !existed)
	}
	var removed []storage.Function
	for _, name := range remove {
		rec, err := r.opt.DB.DeleteFunction(name)
		if err == nil {
			rec.Stamp, rec.Origin = r.stamp()
			_ = r.opt.DB.PutTombstone(storage.Tombstone{Name: name, Stamp: rec.Stamp, Origin: rec.Origin})
			removed = append(removed, rec)
		}
	}
	next := r.cloneTable()
	var olds []*Function
	for _, p := range ps {
		if old := next.byName[p.rec.Name]; old != nil {
			olds = append(olds, old)
		}
		next.byName[p.rec.Name] = &Function{Record: p.rec, Module: p.mod, Env: r.env(p.rec)}
	}
	for _, rec := range removed {
		if old := next.byName[rec.Name]; old != nil {
			olds = append(olds, old)
			delete(next.byName, rec.Name)
		}
	}
	next.rebuildRoutes()
	r.live.Store(next)
	r.trackArtifacts(next)
	inUse := map[string]bool{}
	for _, f := range next.byName {
		inUse[f.Record.SHA256], inUse[f.Record.ServedSHA()] = true, true
	}
	for _, old := range olds {
		old.Module.Release() // in-flight requests hold their own references
		for _, sha := range []string{old.Record.SHA256, old.Record.ServedSHA()} {
			if !inUse[sha] {
				_ = r.opt.DB.ReleaseBlob(sha)
			}
		}
	}
	if len(olds) > 0 {
		r.collectArtifacts() // versions were replaced or removed
	}
	for _, rec := range recs {
		r.notify(rec, false)
	}
	for _, rec := range removed {
		r.notify(rec, true)
	}
	return recs, created, nil
}

// Delete stops serving name and removes it from storage, leaving a
// tombstone for the cluster.
func (r *Registry) Delete(name string) (storage.Function, error) {
	stamp, origin := r.stamp()
	return r.delete(name, stamp, origin)
}

func (r *Registry) delete(name string, stamp hlc.Timestamp, origin string) (storage.Function, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deleteLocked(name, stamp, origin)
}

// deleteLocked is delete with r.mu held.
func (r *Registry) deleteLocked(name string, stamp hlc.Timestamp, origin string) (storage.Function, error) {
	rec, err := r.opt.DB.DeleteFunction(name)
	if err == nil {
		_ = r.opt.DB.PutTombstone(storage.Tombstone{Name: name, Stamp: stamp, Origin: origin})
		rec.Stamp, rec.Origin = stamp, origin
	}
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Function{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return storage.Function{}, err
	}
	next := r.cloneTable()
	if f := next.byName[name]; f != nil {
		delete(next.byName, name)
		next.rebuildRoutes()
		r.live.Store(next)
		r.trackArtifacts(next)
		f.Module.Release()
		r.collectArtifacts()
	}
	r.notify(rec, true)
	return rec, nil
}

// Get returns the live function called name.
func (r *Registry) Get(name string) (*Function, bool) {
	f, ok := r.live.Load().byName[name]
	return f, ok
}

// List returns the live functions' records, sorted by name.
func (r *Registry) List() []storage.Function {
	t := r.live.Load()
	out := make([]storage.Function, 0, len(t.byName))
	for _, f := range t.byName {
		out = append(out, f.Record)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Len is the number of live functions.
func (r *Registry) Len() int { return len(r.live.Load().byName) }

// Match returns the function serving a request for host (its Host
// header, port and all) and path, and the route that matched.
func (r *Registry) Match(host, path []byte) (*Function, string) {
	return r.live.Load().routes.match(host, path)
}

// Close releases every module.
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.live.Swap(&table{byName: map[string]*Function{}, routes: newRouteTable()})
	for _, f := range t.byName {
		f.Module.Release()
	}
}

func (r *Registry) cloneTable() *table {
	cur := r.live.Load()
	next := &table{byName: make(map[string]*Function, len(cur.byName)+1)}
	for k, v := range cur.byName {
		next.byName[k] = v
	}
	next.routes = cur.routes
	return next
}

func (t *table) rebuildRoutes() {
	rt := newRouteTable()
	names := make([]string, 0, len(t.byName))
	for n := range t.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rt.add(t.byName[n])
	}
	t.routes = rt
}

func (r *Registry) env(rec storage.Function) *runtime.Env {
	config := rec.Config
	if len(rec.Secrets) > 0 {
		config = make(map[string]string, len(rec.Config)+len(rec.Secrets))
		for k, v := range rec.Config {
			config[k] = v
		}
		for k, v := range rec.Secrets {
			config[k] = v
		}
	}
	if len(rec.KVGrants) > 0 {
		// A guest learns its grants from WEDGE_KV_GRANTS (the JavaScript
		// engine makes a binding of each; docs/javascript.md).
		c := make(map[string]string, len(config)+1)
		for k, v := range config {
			c[k] = v
		}
		c["WEDGE_KV_GRANTS"] = strings.Join(rec.KVGrants, ",")
		config = c
	}
	env := runtime.NewEnv(rec.Name, config, toRuntimeLimits(rec.Limits))
	env.Logs = r.opt.Logs
	env.KV = r.opt.KV
	env.Events = r.opt.Events
	env.KVNamespace = rec.KVNamespace
	if env.KVNamespace == "" {
		env.KVNamespace = rec.Name
	}
	if len(rec.KVGrants) > 0 {
		env.KVGrants = map[string]bool{}
		for _, g := range rec.KVGrants {
			env.KVGrants[g] = true
		}
	}
	r.outboundEnv(env, rec)
	return env
}

// checkLimits refuses limits outside the ranges of package abi (zero
// means the default). It reads them as stored, before any conversion: a
// huge timeout_ms would overflow a time.Duration into a small one.
func checkLimits(l storage.Limits) error {
	switch {
	case l.TimeoutMS < 0 || l.TimeoutMS > abi.MaxTimeout.Milliseconds():
		return fmt.Errorf("%w: timeout must be at most %v, got %dms", ErrInvalidLimits, abi.MaxTimeout, l.TimeoutMS)
	case l.MemoryBytes < 0 || l.MemoryBytes > abi.MaxMemoryMB<<20:
		return fmt.Errorf("%w: memory must be between 1 and %d MiB, got %d MiB", ErrInvalidLimits, abi.MaxMemoryMB, l.MemoryBytes>>20)
	case l.MaxResponseBytes < 0 || l.MaxResponseBytes > abi.MaxMaxResponseBytes:
		return fmt.Errorf("%w: max response bytes must be between 1 and %d, got %d", ErrInvalidLimits, abi.MaxMaxResponseBytes, l.MaxResponseBytes)
	case l.OutboundTimeoutMS < 0 || l.OutboundTimeoutMS > abi.MaxTimeout.Milliseconds():
		return fmt.Errorf("%w: outbound timeout must be at most %v, got %dms", ErrInvalidLimits, abi.MaxTimeout, l.OutboundTimeoutMS)
	case l.OutboundMaxResponseBytes < 0 || l.OutboundMaxResponseBytes > abi.MaxMaxResponseBytes:
		return fmt.Errorf("%w: outbound max response bytes must be between 1 and %d, got %d", ErrInvalidLimits, abi.MaxMaxResponseBytes, l.OutboundMaxResponseBytes)
	case l.OutboundMaxRequests < 0 || l.OutboundMaxRequests > outbound.MaxMaxRequests:
		return fmt.Errorf("%w: outbound max requests must be between 1 and %d, got %d", ErrInvalidLimits, outbound.MaxMaxRequests, l.OutboundMaxRequests)
	case l.MaxConcurrency < abi.MinMaxConcurrency:
		return fmt.Errorf("%w: max concurrency must be at least %d, got %d", ErrInvalidLimits, abi.MinMaxConcurrency, l.MaxConcurrency)
	}
	return nil
}

func toRuntimeLimits(l storage.Limits) runtime.Limits {
	return runtime.Limits{
		Timeout:          time.Duration(l.TimeoutMS) * time.Millisecond,
		MemoryBytes:      l.MemoryBytes,
		MaxResponseBytes: l.MaxResponseBytes,
	}.WithDefaults()
}

func normalizeRoutes(routes []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, rt := range routes {
		if err := ValidateRoute(rt); err != nil {
			return nil, err
		}
		if !seen[rt] {
			seen[rt] = true
			out = append(out, rt)
		}
	}
	sort.Strings(out)
	return out, nil
}

// SHA is the hex sha256 of a module.
func SHA(wasm []byte) string { return runtime.SHA256Hex(wasm) }

// compile validates and compiles wasm; a reactor (one that exports
// _initialize) is pre-initialized unless the record opts out, and the
// snapshot is what gets compiled and served. A module that cannot be
// snapshotted is served as is, with the reason logged. A JavaScript
// function (its script not nil) has its own path, compileScript.
func (r *Registry) compile(wasm []byte, rec storage.Function, script []byte) (*runtime.Module, *storage.Snapshot, []byte, error) {
	if script != nil {
		return r.compileScript(script, rec)
	}
	lim := toRuntimeLimits(rec.Limits)
	mod, err := r.opt.Engine.CompileFor(wasm, lim)
	if err != nil {
		return nil, nil, nil, err
	}
	if !mod.HasInit || rec.NoSnapshot {
		return mod, nil, nil, nil
	}
	out, st, err := r.opt.Engine.Preinitialize(wasm, r.env(rec))
	if err != nil {
		r.opt.Log.Warn("serving without a snapshot", "function", rec.Name, "err", err)
		if r.opt.Logs != nil {
			r.opt.Logs.Append(rec.Name, "deploy", 2, "wedge", []byte("deploy: serving without a snapshot: "+err.Error()))
		}
		return mod, nil, nil, nil
	}
	snapMod, err := r.opt.Engine.CompileFor(out, lim)
	if err != nil {
		r.opt.Log.Warn("snapshot does not compile; serving the original", "function", rec.Name, "err", err)
		return mod, nil, nil, nil
	}
	mod.Release()
	return snapMod, &storage.Snapshot{SHA256: st.SHA256, MemoryBytes: st.MemoryBytes, NonZeroBytes: st.NonZeroBytes,
		Segments: st.Segments, InitMicros: st.InitTime.Microseconds()}, out, nil
}

// shippedSnapshot compiles the snapshot a replicated change brought
// (DeployRequest.Snapshot), which saves compiling the original module and
// the instrumented one and running the initializer: two of the three
// compilations of a peer's install. The snapshot is a WebAssembly module
// like the original, validated and compiled here, so it asks no more
// trust of the peer than the original does. It returns a nil module when
// there is none to use, and the caller makes its own.
func (r *Registry) shippedSnapshot(req DeployRequest, rec storage.Function) (*runtime.Module, *storage.Snapshot, []byte, error) {
	if req.Snapshot == nil || req.SnapshotWasm == nil || rec.NoSnapshot {
		return nil, nil, nil, nil
	}
	if SHA(req.SnapshotWasm) != req.Snapshot.SHA256 {
		r.opt.Log.Warn("shipped snapshot does not match its sha256; making one here", "function", rec.Name)
		return nil, nil, nil, nil
	}
	mod, err := r.opt.Engine.Compile(req.SnapshotWasm)
	if err != nil {
		r.opt.Log.Warn("shipped snapshot does not compile; making one here", "function", rec.Name, "err", err)
		return nil, nil, nil, nil
	}
	snap := *req.Snapshot
	return mod, &snap, req.SnapshotWasm, nil
}

// stamp returns a new local change stamp.
func (r *Registry) stamp() (hlc.Timestamp, string) {
	if r.opt.Clock == nil {
		return hlc.FromTime(time.Now()), r.opt.Node
	}
	return r.opt.Clock.Now(), r.opt.Node
}

// DeleteStamped deletes name as a change made at stamp by origin (a
// replicated delete), leaving a tombstone. It does nothing if the live
// version is newer.
func (r *Registry) DeleteStamped(name string, stamp hlc.Timestamp, origin string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.newerThanHeld(name, stamp, origin) {
		return nil
	}
	_, err := r.deleteLocked(name, stamp, origin)
	if errors.Is(err, ErrNotFound) {
		return r.opt.DB.PutTombstone(storage.Tombstone{Name: name, Stamp: stamp, Origin: origin})
	}
	return err
}

// newerThanHeld reports whether a change of name stamped (stamp,
// origin) is newer than the live version of name and than its
// tombstone, if any. Caller holds r.mu.
func (r *Registry) newerThanHeld(name string, stamp hlc.Timestamp, origin string) bool {
	if f, ok := r.live.Load().byName[name]; ok && !olderThan(f.Record.Stamp, f.Record.Origin, stamp, origin) {
		return false
	}
	tombs, _ := r.opt.DB.Tombstones()
	for _, t := range tombs {
		if t.Name == name && !olderThan(t.Stamp, t.Origin, stamp, origin) {
			return false
		}
	}
	return true
}

// olderThan reports whether (a, an) orders before (b, bn): last writer
// wins by hybrid logical clock, node name breaking ties.
func olderThan(a hlc.Timestamp, an string, b hlc.Timestamp, bn string) bool {
	if c := a.Compare(b); c != 0 {
		return c < 0
	}
	return an < bn
}
