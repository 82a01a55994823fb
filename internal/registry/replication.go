package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/wedge-run/wedge/internal/cluster"
	"github.com/wedge-run/wedge/internal/storage"
	"github.com/wedge-run/wedge/model"
)

// Replication is the registry as a cluster replicates it
// (cluster.Registry): the records of its functions, apps and tombstones,
// and the application of the records other nodes send.
//
// A function's record carries its spec (model.FunctionSpec) with the
// secrets sealed; an app's record rides the same channel under the name
// storage.AppTombstone(app) ("app:NAME"), which no function can take, so
// apps get gossip, digests, repair and tombstones without a record type
// of their own.
type Replication struct {
	r   *Registry
	cfg ReplicationConfig
}

// ReplicationConfig wires a Replication to the cluster.
type ReplicationConfig struct {
	// Seal and Open seal a function's secrets for the wire and open them
	// (cluster.Seal, cluster.Open). Seal nil: no cluster key, the secrets
	// stay on the node that took the deploy.
	Seal func(plain, aad []byte) ([]byte, error)
	Open func(sealed, aad []byte) ([]byte, error)
	// Fetch gets a blob this node lacks from a peer, origin first
	// (cluster.FetchBlob).
	Fetch func(ctx context.Context, sha, origin string) ([]byte, error)
	// Installing, when set, is called before a function new to this node
	// is fetched and compiled (its requests can be forwarded to origin
	// meanwhile); the function it returns is called when that is over.
	Installing func(name, origin, affinity string, routes []string) (done func())
	// BeforeInstall, when set, is called before any function from a peer
	// is fetched and compiled (tests hold installs there).
	BeforeInstall func(name string)
	Log           *slog.Logger
}

// cachedRecords is the record list as of change gen.
type cachedRecords struct {
	gen  uint64
	recs []cluster.FunctionRecord
}

// Replication returns the registry's replication with cfg.
func (r *Registry) Replication(cfg ReplicationConfig) *Replication {
	if cfg.Log == nil {
		cfg.Log = r.opt.Log
	}
	p := &Replication{r: r, cfg: cfg}
	fetch := p.blob
	r.peerBlob.Store(&fetch)
	return p
}

// changed notes a change of what the registry holds: the record list
// is rebuilt on its next use.
func (r *Registry) changed() { r.gen.Add(1) }

// Invalidate drops the cached record list (after a change of the keys
// secrets are sealed with).
func (p *Replication) Invalidate() { p.r.changed() }

// Records returns every record this node holds, tombstones included. The
// list is built once per change of the registry and then shared: callers
// must not modify it.
func (p *Replication) Records() []cluster.FunctionRecord {
	gen := p.r.gen.Load()
	if c := p.r.records.Load(); c != nil && c.gen == gen {
		return c.recs
	}
	// A change during the build moves gen past the one stored with the
	// list, so the next call builds again.
	recs := p.build()
	p.r.records.Store(&cachedRecords{gen: gen, recs: recs})
	return recs
}

func (p *Replication) build() []cluster.FunctionRecord {
	var out []cluster.FunctionRecord
	for _, rec := range p.r.List() {
		fr, err := p.Record(rec, false)
		if err != nil {
			p.cfg.Log.Error("cluster: function record left out", "function", rec.Name, "err", err)
			continue
		}
		out = append(out, fr)
	}
	for _, a := range p.r.Apps() {
		out = append(out, AppRecord(a, false))
	}
	tombs, err := p.r.opt.DB.Tombstones()
	if err != nil {
		p.cfg.Log.Error("cluster: tombstones left out", "err", err)
	}
	for _, t := range tombs {
		out = append(out, cluster.FunctionRecord{Name: t.Name, Deleted: true, Stamp: t.Stamp, Node: t.Origin})
	}
	return out
}

// wireSpec is what a function's record carries: its spec with the
// secrets sealed (Function.Secrets is always empty on the wire;
// SealedSecrets holds them, JSON sealed with the cluster keyring and
// bound to the function's name), and the deploy-time snapshot the origin
// serves, which peers fetch by its sha256 and compile instead of
// pre-initializing the module again.
type wireSpec struct {
	V             int                 `json:"v"`
	Function      *model.FunctionSpec `json:"function,omitempty"`
	Size          int                 `json:"size"`
	Entry         string              `json:"entry"`
	SealedSecrets []byte              `json:"sealed_secrets,omitempty"`
	Snap          *model.Snapshot     `json:"snap,omitempty"`
	// Version and Info number the version and say who deployed it, so
	// that every node shows and serves the same version numbers.
	Version int64              `json:"version,omitempty"`
	Info    *model.VersionInfo `json:"info,omitempty"`
	// Traffic and StableVersion are a gradual rollout's split (traffic.go).
	Traffic       int   `json:"traffic,omitempty"`
	StableVersion int64 `json:"stable_version,omitempty"`
	// Kept are the versions of the function the sender keeps, oldest
	// first, so that every node keeps the same list (versions.go). The
	// active one is left out unless it was rolled back to (then the
	// entry is the version as first deployed): a function's first record
	// stays as small as before.
	Kept []wireKept `json:"kept,omitempty"`
	// Req is the spec as nodes before model.FunctionVersion send it.
	Req *legacyRequest `json:"req,omitempty"`
}

// wireKept is a kept version on the wire: its record without secrets,
// and the secrets sealed like the function's own.
type wireKept struct {
	Function      model.Function `json:"function"`
	SealedSecrets []byte         `json:"sealed_secrets,omitempty"`
}

// legacyRequest is registry.DeployRequest as earlier versions encoded
// it (Go field names, the limits and triggers already in snake_case).
type legacyRequest struct {
	Name         string
	Routes       []string
	Limits       model.Limits
	Config       map[string]string
	KVNamespace  string
	KVGrants     []string
	AllowedHosts []string
	Secrets      map[string]string
	Triggers     []model.Trigger
	App          string
	NoSnapshot   bool
	Affinity     string
}

func (l legacyRequest) spec() model.FunctionSpec {
	return model.FunctionSpec{Name: l.Name, Routes: l.Routes, Limits: l.Limits, Config: l.Config,
		KVNamespace: l.KVNamespace, KVGrants: l.KVGrants, AllowedHosts: l.AllowedHosts, Secrets: l.Secrets,
		Triggers: l.Triggers, App: l.App, NoSnapshot: l.NoSnapshot, Affinity: l.Affinity}
}

// secretsAAD is what sealed secrets are bound to: a function's secrets
// open only as that function's.
func secretsAAD(name string) []byte { return []byte("wedge function secrets\x00" + name) }

// Record makes the replicated form of a function (or of its removal).
// Secrets travel only sealed, and only when there is a Seal.
func (p *Replication) Record(rec model.Function, deleted bool) (cluster.FunctionRecord, error) {
	fr := cluster.FunctionRecord{Name: rec.Name, SHA256: rec.SHA256, Deleted: deleted, Stamp: rec.Stamp, Node: rec.Origin}
	if deleted {
		return fr, nil
	}
	spec := rec.FunctionSpec
	spec.Secrets = nil
	info := rec.VersionInfo
	sp := wireSpec{V: model.FunctionVersion, Function: &spec, Size: rec.Size, Entry: rec.Entry, Snap: rec.Snapshot,
		Version: rec.Version, Info: &info, Traffic: rec.Traffic, StableVersion: rec.StableVersion}
	var err error
	if sp.SealedSecrets, err = p.seal(rec.Name, rec.Secrets); err != nil {
		return fr, err
	}
	kept, err := p.r.opt.DB.Versions(rec.Name)
	if err != nil {
		return fr, err
	}
	for _, v := range kept {
		if v.Version == rec.Version && rec.RolledBack.IsZero() {
			continue // the record itself: a receiver keeps it as that version
		}
		k := wireKept{Function: v}
		k.Function.Secrets = nil
		if k.SealedSecrets, err = p.seal(rec.Name, v.Secrets); err != nil {
			return fr, err
		}
		sp.Kept = append(sp.Kept, k)
	}
	b, err := json.Marshal(sp)
	fr.Spec = b
	return fr, err
}

// seal seals a function's secrets for the wire (nil when there are none,
// or no key to seal them with: they stay on this node).
func (p *Replication) seal(name string, secrets map[string]string) ([]byte, error) {
	if len(secrets) == 0 || p.cfg.Seal == nil {
		return nil, nil
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	sealed, err := p.cfg.Seal(plain, secretsAAD(name))
	if err != nil {
		return nil, fmt.Errorf("function %s: sealing its secrets: %w", name, err)
	}
	return sealed, nil
}

// open opens secrets p.seal sealed for the function name.
func (p *Replication) open(name string, sealed []byte) (map[string]string, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	if p.cfg.Open == nil {
		return nil, fmt.Errorf("function %s: sealed secrets and no cluster key to open them", name)
	}
	plain, err := p.cfg.Open(sealed, secretsAAD(name))
	if err != nil {
		return nil, fmt.Errorf("function %s: opening its secrets: %w", name, err)
	}
	var secrets map[string]string
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return nil, fmt.Errorf("function %s: bad secrets: %w", name, err)
	}
	return secrets, nil
}

// keptVersions opens the kept versions a record carries. A version whose
// secrets cannot be opened is left out (logged): it could not be served.
func (p *Replication) keptVersions(name string, ks []wireKept) []model.Function {
	var out []model.Function
	for _, k := range ks {
		f := k.Function
		if f.Name != name || f.Version <= 0 || len(f.Secrets) > 0 {
			p.cfg.Log.Warn("cluster: kept version left out", "function", name, "version", f.Version)
			continue
		}
		secrets, err := p.open(name, k.SealedSecrets)
		if err != nil {
			p.cfg.Log.Warn("cluster: kept version left out", "function", name, "version", f.Version, "err", err)
			continue
		}
		f.Secrets = secrets
		out = append(out, f)
	}
	return out
}

// AppRecord makes the replicated form of an app's record (or of its
// removal).
func AppRecord(a model.App, deleted bool) cluster.FunctionRecord {
	fr := cluster.FunctionRecord{Name: storage.AppTombstone(a.Name), Deleted: deleted, Stamp: a.Stamp, Node: a.Origin}
	if !deleted {
		a.V = model.AppVersion
		fr.Spec, _ = json.Marshal(a) // plain data: cannot fail
	}
	return fr
}

// openSpec decodes a replicated function's spec and opens its secrets.
func (p *Replication) openSpec(fr cluster.FunctionRecord) (wireSpec, model.FunctionSpec, error) {
	var sp wireSpec
	if err := json.Unmarshal(fr.Spec, &sp); err != nil {
		return sp, model.FunctionSpec{}, fmt.Errorf("function %s: bad spec: %w", fr.Name, err)
	}
	var spec model.FunctionSpec
	switch {
	case sp.Function != nil:
		spec = *sp.Function
	case sp.Req != nil:
		spec = sp.Req.spec()
	default:
		return sp, spec, fmt.Errorf("function %s: spec without a function", fr.Name)
	}
	if len(spec.Secrets) > 0 {
		// A sender that predates sealing: refuse rather than take, or
		// drop, secrets that crossed the network in the clear.
		return sp, spec, fmt.Errorf("function %s: record from %s carries secrets in the clear; upgrade that node", fr.Name, fr.Node)
	}
	if len(sp.SealedSecrets) > 0 {
		secrets, err := p.open(fr.Name, sp.SealedSecrets)
		if err != nil {
			return sp, spec, err
		}
		spec.Secrets = secrets
	}
	spec.Name = fr.Name
	return sp, spec, nil
}

// ApplyRemote merges a replicated change: newer wins; a deploy whose
// module this node lacks fetches it from the origin (or any peer),
// verified by its sha256, and is compiled before it is routed to.
func (p *Replication) ApplyRemote(fr cluster.FunctionRecord) error {
	if strings.HasPrefix(fr.Name, storage.AppPrefix) {
		return p.applyApp(fr)
	}
	r := p.r
	if cur, ok := r.Get(fr.Name); ok {
		if !cluster.Newer(fr.Stamp, fr.Node, cur.Record.Stamp, cur.Record.Origin) {
			return nil
		}
	} else if tombs, _ := r.opt.DB.Tombstones(); len(tombs) > 0 {
		for _, t := range tombs {
			if t.Name == fr.Name && !cluster.Newer(fr.Stamp, fr.Node, t.Stamp, t.Origin) {
				return nil
			}
		}
	}
	if fr.Deleted {
		return r.DeleteStamped(fr.Name, fr.Stamp, fr.Node)
	}
	sp, spec, err := p.openSpec(fr)
	if err != nil {
		return err
	}
	if sp.Info != nil && sp.Info.AppRollback && spec.App != "" && r.appBehind(spec.App, fr.Stamp, fr.Node) {
		// Part of an app rollback: switched with the app's other
		// functions when the app's record arrives (applyApp), not alone.
		p.cfg.Log.Debug("function record waits for its app's rollback record", "function", fr.Name, "app", spec.App)
		return nil
	}
	if _, ok := r.Get(fr.Name); !ok && p.cfg.Installing != nil {
		// New here: until it is installed, its routes go to the origin.
		defer p.cfg.Installing(fr.Name, fr.Node, spec.Affinity, spec.Routes)()
	}
	if p.cfg.BeforeInstall != nil {
		p.cfg.BeforeInstall(fr.Name)
	}
	start := time.Now()
	req := DeployRequest{FunctionSpec: spec, Version: sp.Version, Traffic: sp.Traffic, StableVersion: sp.StableVersion,
		Kept: p.keptVersions(fr.Name, sp.Kept)}
	if sp.Info != nil {
		req.Info = *sp.Info
	}
	if sp.Snap != nil && !spec.NoSnapshot && cluster.ValidSHA256(sp.Snap.SHA256) {
		// The module and its snapshot, fetched at the same time.
		var snapErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			req.SnapshotWasm, snapErr = p.blob(sp.Snap.SHA256, fr.Node)
		}()
		req.Wasm, err = p.blob(fr.SHA256, fr.Node)
		<-done
		if snapErr == nil {
			req.Snapshot = sp.Snap
		} else {
			req.SnapshotWasm = nil // pre-initialize here instead
			p.cfg.Log.Debug("snapshot not fetched; making one", "function", fr.Name, "err", snapErr)
		}
	} else {
		req.Wasm, err = p.blob(fr.SHA256, fr.Node)
	}
	if err != nil {
		return err
	}
	fetched := time.Since(start)
	req.Stamp, req.Origin = fr.Stamp, fr.Node
	// One compilation at a time: wasmtime already spreads one module's
	// functions over every core, so installing several at once only
	// makes all of them finish last; one after the other, the first is
	// served after a fraction of the time.
	installCompile <- struct{}{}
	_, _, err = r.Deploy(context.Background(), req) // cluster.Registry.ApplyRemote has no context: the install runs to its end
	<-installCompile
	if errors.Is(err, ErrSuperseded) {
		return nil // a newer change landed while the module was fetched and compiled
	}
	if err != nil {
		return err
	}
	p.cfg.Log.Info("installed function from peer", "function", fr.Name, "from", fr.Node,
		"fetch", fetched.Round(time.Millisecond), "total", time.Since(start).Round(time.Millisecond), "shipped_snapshot", req.Snapshot != nil)
	return nil
}

// applyApp merges a replicated app record.
func (p *Replication) applyApp(fr cluster.FunctionRecord) error {
	a := model.App{Name: storage.AppName(fr.Name)}
	if !fr.Deleted {
		if err := json.Unmarshal(fr.Spec, &a); err != nil {
			return fmt.Errorf("app %s: bad record: %w", a.Name, err)
		}
		if a.V > model.AppVersion {
			return fmt.Errorf("app %s: record version %d is newer than this node reads (%d)", a.Name, a.V, model.AppVersion)
		}
	}
	a.Name, a.Stamp, a.Origin = storage.AppName(fr.Name), fr.Stamp, fr.Node
	if err := model.ValidateName(a.Name); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	for _, b := range a.Buckets {
		if err := b.Validate(); err != nil {
			return fmt.Errorf("app %s: %w", a.Name, err)
		}
	}
	if !fr.Deleted && a.Rollback != nil {
		return p.applyAppRollback(a)
	}
	return p.r.ApplyApp(a, fr.Deleted)
}

// applyAppRollback applies an app rollback made on another node: every
// function it names that holds an older record here goes back to the
// kept version named, all in one change with the app's record. A
// function not here, or whose kept version is not here, is left to its
// own record, which the app's record being here now lets through.
func (p *Replication) applyAppRollback(a model.App) error {
	r := p.r
	var targets []model.Function
	for _, name := range slices.Sorted(maps.Keys(a.Rollback.Versions)) {
		version := a.Rollback.Versions[name]
		cur, ok := r.Get(name)
		if !ok || !olderThan(cur.Record.Stamp, cur.Record.Origin, a.Stamp, a.Origin) {
			continue
		}
		vs, err := r.opt.DB.Versions(name)
		if err != nil {
			return err
		}
		found := false
		for _, v := range vs {
			if v.Version == version {
				targets, found = append(targets, v), true
				break
			}
		}
		if !found {
			p.cfg.Log.Warn("app rollback: kept version not here; the function's own record will follow",
				"app", a.Name, "function", name, "version", version)
		}
	}
	err := r.switchApp(context.Background(), a, targets, a.Origin)
	if err == nil {
		p.cfg.Log.Info("app rolled back from peer", "app", a.Name, "from", a.Origin, "functions", len(targets))
	}
	return err
}

// installCompile serializes the compilation of functions installed from
// peers, process-wide (one engine, one thread pool).
var installCompile = make(chan struct{}, 1)

// blob returns the blob sha from the store, or fetches it from a peer,
// asking origin first.
func (p *Replication) blob(sha, origin string) ([]byte, error) {
	if p.r.opt.DB.HasBlob(sha) {
		return p.r.opt.DB.Blob(sha)
	}
	if p.cfg.Fetch == nil {
		return nil, fmt.Errorf("blob %s: %w", sha, storage.ErrNotFound)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return p.cfg.Fetch(ctx, sha, origin)
}
