package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/js"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
	"github.com/wedge-run/wedge/internal/storage"
	"github.com/wedge-run/wedge/model"
)

// Errors the admin API maps to statuses.
var (
	ErrNotFound      = errors.New("function not found")
	ErrRouteConflict = errors.New("route conflict")
	// The model's validation errors, named here for the admin API.
	ErrInvalidName     = model.ErrInvalidName
	ErrInvalidRoute    = model.ErrInvalidRoute
	ErrInvalidAffinity = model.ErrInvalidAffinity
	ErrInvalidLimits   = model.ErrInvalidLimits
	ErrInvalidTrigger  = model.ErrInvalidTrigger
	// ErrReservedNamespace: a function may not own or be granted the
	// node's reserved KV namespaces (kv.Reserved).
	ErrReservedNamespace = errors.New("reserved KV namespace")
)

// ErrSuperseded is returned by Deploy for a replicated change (a request
// with a Stamp) that is not newer than what this node holds for the
// function, its live version or its tombstone: nothing changed.
var ErrSuperseded = errors.New("a newer version or delete is already here")

// Function is one deployed, servable version.
type Function struct {
	Record model.Function
	Module *runtime.Module
	Env    *runtime.Env
	// Stable, during a gradual rollout (Record.StableVersion set), is the
	// kept version that serves the requests this one does not (Choose).
	Stable *Function
}

// release drops f's module references (its stable version's too).
func (f *Function) release() {
	f.Module.Release()
	if f.Stable != nil {
		f.Stable.Module.Release()
	}
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

	listenMu     sync.Mutex
	listeners    []func(rec model.Function, deleted bool)
	appListeners []func(app model.App, deleted bool)

	// gen counts the changes of what the node holds (functions, apps,
	// tombstones): the replicated record list is rebuilt when it moves
	// (replication.go).
	gen     atomic.Uint64
	records atomic.Pointer[cachedRecords]

	// artifacts is the set of module sha256s the live versions use (each
	// version's module and its snapshot): the artifacts the engine keeps
	// (artifacts.go). Updated with every change of the live table, but not
	// by Close, so shutting down deletes nothing.
	artifacts atomic.Pointer[map[string]bool]

	// peerBlob, in a cluster, fetches a blob this node lacks from a peer
	// (origin first): the modules of kept versions it never deployed
	// (versions.go). Set by Replication.
	peerBlob atomic.Pointer[func(sha, origin string) ([]byte, error)]
}

// OnChange registers fn to be called after every deploy or delete (with
// the new record, or the removed one and deleted=true), and after Load
// (with a zero record).
func (r *Registry) OnChange(fn func(rec model.Function, deleted bool)) {
	r.listenMu.Lock()
	r.listeners = append(r.listeners, fn)
	r.listenMu.Unlock()
}

func (r *Registry) notify(rec model.Function, deleted bool) {
	r.listenMu.Lock()
	ls := append([]func(model.Function, bool){}, r.listeners...)
	r.listenMu.Unlock()
	for _, fn := range ls {
		fn(rec, deleted)
	}
}

type table struct {
	byName map[string]*Function
	routes *routeTable
	apps   map[string]model.App
}

// New returns an empty registry; call Load to serve what storage holds.
func New(opt Options) *Registry {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	r := &Registry{opt: opt}
	if opt.Engine != nil {
		// Every JavaScript function's snapshot has the engine's code: it
		// is compiled once per node and each function's own module is
		// only its memory image (js.go, runtime/split.go).
		opt.Engine.ShareCode(js.Engine())
	}
	r.live.Store(&table{byName: map[string]*Function{}, routes: newRouteTable(), apps: map[string]model.App{}})
	return r
}

// Load serves every stored function, loading native code from the
// artifact cache and compiling only what is missing there. A function
// that fails to load is logged and skipped, never fatal.
func (r *Registry) Load() error {
	stamp, origin := r.stamp()
	if n, err := r.opt.DB.MigrateLegacyApps(stamp, origin); err != nil {
		return err
	} else if n > 0 {
		r.opt.Log.Info("app buckets of an earlier version migrated to app records", "apps", n)
	}
	recs, err := r.opt.DB.ListFunctions()
	if err != nil {
		return err
	}
	apps, err := r.opt.DB.ListApps()
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
		next.byName[rec.Name] = r.withStable(&Function{Record: rec, Module: mod, Env: r.env(rec)})
	}
	for _, a := range apps {
		next.apps[a.Name] = a
	}
	next.rebuildRoutes()
	r.live.Store(next)
	r.changed()
	r.trackArtifacts(next)
	r.opt.Engine.KeepArtifacts(r.keepsArtifact)
	r.collectArtifacts()
	go func() {
		r.notify(model.Function{}, false)
		r.notifyApp(model.App{}, false)
	}()
	return nil
}

// DeployRequest describes a new function or version: its spec and its
// module.
type DeployRequest struct {
	model.FunctionSpec
	Wasm []byte
	// JS means Wasm holds a JavaScript module (worker.js) rather than a
	// WebAssembly module; see js.go.
	JS bool
	// Stamp and Origin are set when applying a change replicated from
	// another node; local deploys are stamped by the registry.
	Stamp  hlc.Timestamp
	Origin string
	// Snapshot and SnapshotWasm, when both set, are the pre-initialized
	// module the node that deployed the function made from Wasm (a
	// replicated change): it is compiled and served as is, instead of
	// running the initializer again here. It must match Snapshot.SHA256;
	// if it does not, or does not compile, the registry makes its own.
	Snapshot     *model.Snapshot
	SnapshotWasm []byte
	// Progress, if set, is told each phase of the deploy as it starts
	// (progress.go).
	Progress func(phase string) `json:"-"`
	// Version, when set, is the version number the record keeps (a
	// rollback, or a version numbered by the node that took the deploy);
	// zero numbers it next. Info is who deployed it, and when (zero
	// times: now).
	Version int64
	Info    model.VersionInfo
	// Traffic between 1 and 99 deploys the version as a gradual rollout
	// serving that percentage of requests; the rest stay on the current
	// version (StableVersion when replicated, else the live one's).
	Traffic       int
	StableVersion int64
	// Kept are the versions of the function the node that sent a
	// replicated record keeps: this node keeps them too (storage.Put.Kept),
	// so every node lists the same versions and can roll back to them.
	Kept []model.Function
}

// Deploy validates, compiles, persists and publishes a function. It
// returns the stored record and whether it was newly created. Nothing is
// stored or changed when it fails, and nothing once ctx is done: it
// returns ctx.Err() if ctx ends before the function is stored (a
// compilation already under way finishes first; wasmtime cannot be
// interrupted).
func (r *Registry) Deploy(ctx context.Context, req DeployRequest) (model.Function, bool, error) {
	p, err := r.prepare(ctx, req)
	if err != nil {
		return model.Function{}, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		p.mod.Release()
		return model.Function{}, false, err
	}
	// A replicated version was found newer before it was fetched and
	// compiled, which takes a while: a local delete or deploy, or
	// another replicated change, may have landed since. Checked again
	// here, under the lock, or an older version would replace a newer
	// one (and its tombstone) on this node.
	if !req.Stamp.IsZero() && !r.newerThanHeld(req.Name, req.Stamp, req.Origin) {
		p.mod.Release()
		return model.Function{}, false, fmt.Errorf("%w: %q", ErrSuperseded, req.Name)
	}
	if err := r.checkRoutes([]*prepared{p}, nil); err != nil {
		p.mod.Release()
		return model.Function{}, false, err
	}
	recs, created, err := r.commit([]*prepared{p}, nil, appChange{})
	if err != nil {
		return model.Function{}, false, err
	}
	return recs[0], created[0], nil
}

// prepared is a validated, compiled function not yet published.
type prepared struct {
	rec   model.Function
	mod   *runtime.Module
	blobs [][]byte
	kept  []model.Function
}

// prepare validates req and compiles (and pre-initializes) its module,
// without changing anything. It does not start compiling once ctx is
// done.
func (r *Registry) prepare(ctx context.Context, req DeployRequest) (*prepared, error) {
	if err := jsModule(&req); err != nil { // js.go
		return nil, err
	}
	rec, err := r.record(req)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	say := req.say
	script := scriptOf(req)
	mod, snap, snapBlob, err := r.shippedSnapshot(req, rec)
	if mod == nil && err == nil {
		mod, snap, snapBlob, err = r.compile(req.Wasm, rec, script, say)
	}
	if err != nil {
		return nil, err
	}
	rec.Entry = mod.Entry.String()
	rec.Kind, rec.Script = rec.Entry, nil
	if script != nil {
		rec.Kind, rec.Script = model.KindJS, &model.Script{Bytes: len(script), SHA256: SHA(script)}
	}
	rec.Snapshot = snap
	blobs := [][]byte{req.Wasm}
	if snapBlob != nil {
		blobs = append(blobs, snapBlob)
	}
	return &prepared{rec: rec, mod: mod, blobs: blobs, kept: req.Kept}, nil
}

// record validates req and builds the record it would store.
func (r *Registry) record(req DeployRequest) (model.Function, error) {
	spec := req.FunctionSpec
	routes, err := model.NormalizeRoutes(spec.Routes)
	if err != nil {
		return model.Function{}, err
	}
	spec.Routes = routes
	if err := spec.Validate(); err != nil {
		return model.Function{}, err
	}
	if spec.AllowedHosts, err = normalizeAllowedHosts(spec.AllowedHosts); err != nil {
		return model.Function{}, err
	}
	if spec.KVNamespace == "" {
		spec.KVNamespace = spec.Name
	}
	if err := checkReserved(spec); err != nil {
		return model.Function{}, err
	}
	stamp, origin := req.Stamp, req.Origin
	if stamp.IsZero() {
		stamp, origin = r.stamp()
	}
	rec := model.Function{
		V: model.FunctionVersion, FunctionSpec: spec, Stamp: stamp, Origin: origin,
		SHA256: SHA(req.Wasm), Size: len(req.Wasm), Version: req.Version, VersionInfo: req.Info,
	}
	if err := r.split(&rec, req); err != nil { // traffic.go
		return model.Function{}, err
	}
	return rec, nil
}

// checkReserved refuses a function that would own, be granted or watch
// one of the node's reserved KV namespaces (kv.Reserved): names the
// model allows but the node keeps for itself.
func checkReserved(spec model.FunctionSpec) error {
	for _, n := range append([]string{spec.KVNamespace}, spec.KVGrants...) {
		if kv.Reserved(n) {
			return fmt.Errorf("%w %q: names starting with %q belong to the node", ErrReservedNamespace, n, kv.ReservedPrefix)
		}
	}
	for _, t := range spec.Triggers {
		if t.Kind == model.KindKV && kv.Reserved(t.Namespace) {
			return fmt.Errorf("%w (%s): namespace %q is reserved for the node", ErrInvalidTrigger, t.Kind, t.Namespace)
		}
	}
	return nil
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

// commit persists prepared functions, removes others and stores or
// removes an app record, in one storage transaction, then publishes
// them in one swap of the live table. Caller holds r.mu.
func (r *Registry) commit(ps []*prepared, remove []string, app appChange) ([]model.Function, []bool, error) {
	var ch storage.Change
	for _, p := range ps {
		ch.Put = append(ch.Put, storage.Put{Function: p.rec, Blobs: p.blobs, Kept: p.kept})
	}
	for _, name := range remove {
		stamp, origin := r.stamp()
		ch.Remove = append(ch.Remove, storage.Tombstone{Name: name, Stamp: stamp, Origin: origin})
	}
	ch.App, ch.RemoveApp = app.put, app.remove
	res, err := r.opt.DB.Commit(ch)
	if err != nil {
		for _, p := range ps {
			p.mod.Release()
		}
		return nil, nil, err
	}
	for i, p := range ps {
		p.rec = res.Put[i]
	}
	next := r.cloneTable()
	var olds []*Function
	for _, p := range ps {
		if old := next.byName[p.rec.Name]; old != nil {
			olds = append(olds, old)
		}
		next.byName[p.rec.Name] = r.withStable(&Function{Record: p.rec, Module: p.mod, Env: r.env(p.rec)})
	}
	for _, rec := range res.Removed {
		if old := next.byName[rec.Name]; old != nil {
			olds = append(olds, old)
			delete(next.byName, rec.Name)
		}
	}
	app.apply(next)
	next.rebuildRoutes()
	r.live.Store(next)
	r.changed()
	r.trackArtifacts(next)
	inUse := map[string]bool{}
	for _, f := range next.byName {
		inUse[f.Record.SHA256], inUse[f.Record.ServedSHA()] = true, true
	}
	for _, old := range olds {
		old.release() // in-flight requests hold their own references
		for _, sha := range []string{old.Record.SHA256, old.Record.ServedSHA()} {
			if !inUse[sha] {
				_ = r.opt.DB.ReleaseBlob(sha)
			}
		}
	}
	if len(olds) > 0 {
		r.collectArtifacts() // versions were replaced or removed
	}
	for _, rec := range res.Put {
		r.notify(rec, false)
	}
	for _, rec := range res.Removed {
		r.notify(rec, true)
	}
	app.notify(r)
	created := make([]bool, len(res.Existed))
	for i, existed := range res.Existed {
		created[i] = !existed
	}
	return res.Put, created, nil
}

// Delete stops serving name and removes it from storage, leaving a
// tombstone for the cluster. It returns ctx.Err() without changing
// anything if ctx is done before the removal is stored.
func (r *Registry) Delete(ctx context.Context, name string) (model.Function, error) {
	stamp, origin := r.stamp()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return model.Function{}, err
	}
	return r.deleteLocked(name, stamp, origin)
}

// deleteLocked is delete with r.mu held.
func (r *Registry) deleteLocked(name string, stamp hlc.Timestamp, origin string) (model.Function, error) {
	res, err := r.opt.DB.Commit(storage.Change{Remove: []storage.Tombstone{{Name: name, Stamp: stamp, Origin: origin}}})
	if err != nil {
		return model.Function{}, err
	}
	if len(res.Removed) == 0 {
		return model.Function{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	rec := res.Removed[0]
	next := r.cloneTable()
	if f := next.byName[name]; f != nil {
		delete(next.byName, name)
		next.rebuildRoutes()
		r.live.Store(next)
		r.trackArtifacts(next)
		f.release()
		r.collectArtifacts()
	}
	r.changed()
	r.notify(rec, true)
	return rec, nil
}

// Get returns the live function called name.
func (r *Registry) Get(name string) (*Function, bool) {
	f, ok := r.live.Load().byName[name]
	return f, ok
}

// List returns the live functions' records, sorted by name.
func (r *Registry) List() []model.Function {
	t := r.live.Load()
	out := make([]model.Function, 0, len(t.byName))
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
	t := r.live.Swap(&table{byName: map[string]*Function{}, routes: newRouteTable(), apps: map[string]model.App{}})
	for _, f := range t.byName {
		f.release()
	}
}

func (r *Registry) cloneTable() *table {
	cur := r.live.Load()
	next := &table{byName: make(map[string]*Function, len(cur.byName)+1)}
	for k, v := range cur.byName {
		next.byName[k] = v
	}
	next.routes = cur.routes
	next.apps = make(map[string]model.App, len(cur.apps)+1)
	for k, v := range cur.apps {
		next.apps[k] = v
	}
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

func (r *Registry) env(rec model.Function) *runtime.Env {
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
	env := runtime.NewEnv(rec.Name, config, runtime.LimitsFrom(rec.Limits))
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

// SHA is the hex sha256 of a module.
func SHA(wasm []byte) string { return runtime.SHA256Hex(wasm) }

// compile validates and compiles wasm; a reactor (one that exports
// _initialize) is pre-initialized unless the record opts out, and the
// snapshot is what gets compiled and served. A module that cannot be
// snapshotted is served as is, with the reason logged. A JavaScript
// function (its script not nil) has its own path, compileScript.
func (r *Registry) compile(wasm []byte, rec model.Function, script []byte, say func(string)) (*runtime.Module, *model.Snapshot, []byte, error) {
	if script != nil {
		return r.compileScript(script, rec, say)
	}
	lim := runtime.LimitsFrom(rec.Limits)
	say(PhaseCompiling)
	mod, err := r.opt.Engine.CompileFor(wasm, lim)
	if err != nil {
		return nil, nil, nil, err
	}
	if !mod.HasInit || rec.NoSnapshot {
		return mod, nil, nil, nil
	}
	say(PhaseSnapshotting)
	out, st, err := r.opt.Engine.Preinitialize(wasm, r.env(rec))
	if err != nil {
		r.opt.Log.Warn("serving without a snapshot", "function", rec.Name, "err", err)
		if r.opt.Logs != nil {
			r.opt.Logs.Append(rec.Name, "deploy", 2, "wedge", []byte("deploy: serving without a snapshot: "+err.Error()))
		}
		return mod, nil, nil, nil
	}
	say(PhaseCompilingSnapshot)
	snapMod, err := r.opt.Engine.CompileFor(out, lim)
	if err != nil {
		r.opt.Log.Warn("snapshot does not compile; serving the original", "function", rec.Name, "err", err)
		return mod, nil, nil, nil
	}
	mod.Release()
	return snapMod, &model.Snapshot{SHA256: st.SHA256, MemoryBytes: st.MemoryBytes, NonZeroBytes: st.NonZeroBytes,
		Segments: st.Segments, InitMicros: st.InitTime.Microseconds()}, out, nil
}

// shippedSnapshot compiles the snapshot a replicated change brought
// (DeployRequest.Snapshot), which saves compiling the original module and
// the instrumented one and running the initializer: two of the three
// compilations of a peer's install. The snapshot is a WebAssembly module
// like the original, validated and compiled here, so it asks no more
// trust of the peer than the original does. It returns a nil module when
// there is none to use, and the caller makes its own.
func (r *Registry) shippedSnapshot(req DeployRequest, rec model.Function) (*runtime.Module, *model.Snapshot, []byte, error) {
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
		err = r.opt.DB.PutTombstone(storage.Tombstone{Name: name, Stamp: stamp, Origin: origin})
		r.changed()
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
