package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/wedge-run/wedge/model"
)

// ErrNoVersion: a rollback names a version that is not kept, or there is
// no earlier version to go back to.
var ErrNoVersion = errors.New("version not found")

// ErrNoRollout: a promote of a function that is not being rolled out.
var ErrNoRollout = errors.New("no rollout in progress")

// Versions lists the kept versions of name, newest first.
func (r *Registry) Versions(name string) ([]model.Function, error) {
	vs, err := r.opt.DB.Versions(name)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		if _, ok := r.Get(name); !ok {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
		}
	}
	out := make([]model.Function, len(vs))
	for i, v := range vs {
		out[len(vs)-1-i] = v
	}
	return out, nil
}

// Rollback makes a kept version of name the active one again: version 0
// means the newest kept version older than the active one. It is a
// deploy of the kept record and its stored modules (the snapshot
// included, so nothing is pre-initialized again, and the compiled
// artifacts are kept with the version, so nothing is compiled again),
// stamped now, which replicates like any deploy. The version keeps its
// number, and its spec and configuration are the ones it was deployed
// with. by names the token that asked for it.
func (r *Registry) Rollback(name string, version int64, by string) (model.Function, error) {
	cur, ok := r.Get(name)
	if !ok {
		return model.Function{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	vs, err := r.opt.DB.Versions(name)
	if err != nil {
		return model.Function{}, err
	}
	if version == 0 && cur.Record.StableVersion != 0 {
		version = cur.Record.StableVersion // a rollout goes back to its stable version
	}
	var target *model.Function
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		if (version == 0 && v.Version < cur.Record.Version) || (version != 0 && v.Version == version) {
			target = &vs[i]
			break
		}
	}
	if target == nil {
		if version == 0 {
			return model.Function{}, fmt.Errorf("%w: function %q has no kept version before %d", ErrNoVersion, name, cur.Record.Version)
		}
		return model.Function{}, fmt.Errorf("%w: function %q has no kept version %d", ErrNoVersion, name, version)
	}
	req := DeployRequest{FunctionSpec: target.FunctionSpec, Version: target.Version, Info: target.VersionInfo}
	req.Info.RolledBack, req.Info.RolledBackBy = time.Now().UTC(), by
	return r.redeploy(req, *target)
}

// Promote ends name's gradual rollout: its new version serves every
// request (a record change, like Rollback).
func (r *Registry) Promote(name string) (model.Function, error) {
	cur, ok := r.Get(name)
	if !ok {
		return model.Function{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if cur.Record.StableVersion == 0 {
		return model.Function{}, fmt.Errorf("%w: function %q has no rollout in progress", ErrNoRollout, name)
	}
	vs, err := r.opt.DB.Versions(name)
	if err != nil {
		return model.Function{}, err
	}
	for _, v := range vs {
		if v.Version == cur.Record.Version {
			info := cur.Record.VersionInfo
			info.AppRollback = false
			return r.redeploy(DeployRequest{FunctionSpec: v.FunctionSpec, Version: v.Version, Info: info}, v)
		}
	}
	return model.Function{}, fmt.Errorf("%w: function %q has no kept version %d", ErrNoVersion, name, cur.Record.Version)
}

// redeploy deploys req, the kept version target, from its stored modules.
func (r *Registry) redeploy(req DeployRequest, target model.Function) (model.Function, error) {
	if err := r.keptModules(&req, target); err != nil {
		return model.Function{}, err
	}
	rec, _, err := r.Deploy(context.Background(), req) // Rollback and Promote take no context yet
	return rec, err
}

// keptModules fills req's module (and snapshot) with the kept version
// target's, from the store, or from a peer when this node lacks them (it
// joined after that version was deployed: versions replicate without
// their blobs).
func (r *Registry) keptModules(req *DeployRequest, target model.Function) error {
	var err error
	if req.Wasm, err = r.keptBlob(target.SHA256, target.Origin); err != nil {
		return fmt.Errorf("function %q version %d: %w", target.Name, target.Version, err)
	}
	if target.Snapshot != nil {
		if req.SnapshotWasm, err = r.keptBlob(target.Snapshot.SHA256, target.Origin); err == nil {
			req.Snapshot = target.Snapshot
		}
	}
	return nil
}

// keptBlob returns the blob sha from the store, else from a peer (origin
// first) when the node is in a cluster.
func (r *Registry) keptBlob(sha, origin string) ([]byte, error) {
	b, err := r.opt.DB.Blob(sha)
	if err == nil {
		return b, nil
	}
	if p := r.peerBlob.Load(); p != nil {
		return (*p)(sha, origin)
	}
	return nil, err
}

// RollbackApp rolls every function of app back to the version it had
// before the app's last deploy: the functions that deploy changed go
// back to their newest kept version made earlier; those it left
// unchanged stay; those it created have nothing to go back to and stay
// too (named in the result's Action "kept: new in the last deploy").
//
// The whole rollback is one change: the functions' records and a new
// record of the app naming the version each went back to
// (model.App.Rollback) share one stamp and are stored in one transaction
// and published in one swap of the live table. Other nodes apply it from
// the app's record, all functions at once (Replication.applyApp); a
// function's own record of it waits for the app's.
func (r *Registry) RollbackApp(app, by string) ([]Change, error) {
	var fns []*Function
	var last int64
	for _, rec := range r.List() {
		if rec.App == app {
			f, _ := r.Get(rec.Name)
			fns = append(fns, f)
			last = max(last, rec.AppDeploy)
		}
	}
	if len(fns) == 0 {
		return nil, fmt.Errorf("%w: app %q", ErrNotFound, app)
	}
	if last == 0 {
		return nil, fmt.Errorf("%w: app %q has no app deploy to roll back", ErrNoVersion, app)
	}
	var changes []Change
	var targets []model.Function
	for _, f := range fns {
		name := f.Record.Name
		if f.Record.AppDeploy != last {
			changes = append(changes, Change{Function: name, Action: "unchanged", Version: f.Record.Version})
			continue
		}
		vs, err := r.opt.DB.Versions(name)
		if err != nil {
			return nil, err
		}
		var target *model.Function
		for i, v := range vs {
			if v.Version != f.Record.Version && v.AppDeploy < last {
				target = &vs[i] // oldest first: the last one found is the newest
			}
		}
		if target == nil {
			changes = append(changes, Change{Function: name, Action: "kept: new in the last deploy", Version: f.Record.Version})
			continue
		}
		targets = append(targets, *target)
		changes = append(changes, Change{Function: name, Action: "rolled back", Version: target.Version})
	}
	if len(targets) > 0 {
		stamp, origin := r.stamp()
		a := model.App{Name: app, Stamp: stamp, Origin: origin,
			Rollback: &model.AppRollback{At: time.Now().UTC(), By: by, Versions: map[string]int64{}}}
		if cur, ok := r.live.Load().apps[app]; ok {
			a.Functions, a.Buckets = cur.Functions, cur.Buckets
		} else {
			for _, f := range fns {
				a.Functions = append(a.Functions, f.Record.Name)
			}
		}
		for _, t := range targets {
			a.Rollback.Versions[t.Name] = t.Version
		}
		if err := r.switchApp(context.Background(), a, targets, origin); err != nil {
			return nil, fmt.Errorf("app %s: %w", app, err)
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Function < changes[j].Function })
	return changes, nil
}

// switchApp makes the app rollback a: each function of targets goes back
// to that kept version, stamped with a's stamp, and a becomes the app's
// record, in one commit. Modules come from the kept artifacts (blobs
// fetched from a peer, origin first, where missing). A function that
// holds a newer record than a is left as it is; if the app's record is
// newer too, nothing changes.
func (r *Registry) switchApp(ctx context.Context, a model.App, targets []model.Function, origin string) error {
	var ps []*prepared
	release := func() {
		for _, p := range ps {
			p.mod.Release()
		}
	}
	for _, t := range targets {
		req := DeployRequest{FunctionSpec: t.FunctionSpec, Version: t.Version, Info: t.VersionInfo, Stamp: a.Stamp, Origin: a.Origin}
		req.Info.RolledBack, req.Info.RolledBackBy, req.Info.AppRollback = a.Rollback.At, a.Rollback.By, true
		t.Origin = cmp.Or(t.Origin, origin)
		if err := r.keptModules(&req, t); err != nil {
			release()
			return err
		}
		p, err := r.prepare(ctx, req)
		if err != nil {
			release()
			return fmt.Errorf("function %s: %w", t.Name, err)
		}
		ps = append(ps, p)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var apply []*prepared
	for _, p := range ps {
		if r.newerThanHeld(p.rec.Name, a.Stamp, a.Origin) {
			apply = append(apply, p)
		} else {
			p.mod.Release()
		}
	}
	ps = apply
	var app appChange
	if r.appNewerThanHeld(a.Name, a.Stamp, a.Origin) {
		a.V = model.AppVersion
		app = appChange{name: a.Name, put: &a}
	}
	if len(ps) == 0 && app.put == nil {
		return nil
	}
	if err := r.checkRoutes(ps, nil); err != nil {
		release()
		return err
	}
	_, _, err := r.commit(ps, nil, app)
	return err
}
