package registry

import (
	"context"
	"errors"
	"fmt"
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
			return r.redeploy(DeployRequest{FunctionSpec: v.FunctionSpec, Version: v.Version, Info: cur.Record.VersionInfo}, v)
		}
	}
	return model.Function{}, fmt.Errorf("%w: function %q has no kept version %d", ErrNoVersion, name, cur.Record.Version)
}

// redeploy deploys req, the kept version target, from its stored modules.
func (r *Registry) redeploy(req DeployRequest, target model.Function) (model.Function, error) {
	var err error
	name := target.Name
	if req.Wasm, err = r.opt.DB.Blob(target.SHA256); err != nil {
		return model.Function{}, fmt.Errorf("function %q version %d: %w", name, target.Version, err)
	}
	if target.Snapshot != nil {
		if req.SnapshotWasm, err = r.opt.DB.Blob(target.Snapshot.SHA256); err == nil {
			req.Snapshot = target.Snapshot
		}
	}
	rec, _, err := r.Deploy(context.Background(), req) // Rollback and Promote take no context yet
	return rec, err
}

// RollbackApp rolls every function of app back to the version it had
// before the app's last deploy: the functions that deploy changed go
// back to their newest kept version made earlier; those it left
// unchanged stay; those it created have nothing to go back to and stay
// too (named in the result's Action "kept: new in the last deploy"). Each
// function's rollback is its own record change.
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
	for _, f := range fns {
		name := f.Record.Name
		if f.Record.AppDeploy != last {
			changes = append(changes, Change{Function: name, Action: "unchanged", Version: f.Record.Version})
			continue
		}
		vs, err := r.opt.DB.Versions(name)
		if err != nil {
			return changes, err
		}
		var target int64
		for _, v := range vs {
			if v.Version != f.Record.Version && v.AppDeploy < last {
				target = v.Version // oldest first: the last one found is the newest
			}
		}
		if target == 0 {
			changes = append(changes, Change{Function: name, Action: "kept: new in the last deploy", Version: f.Record.Version})
			continue
		}
		rec, err := r.Rollback(name, target, by)
		if err != nil {
			return changes, fmt.Errorf("app %s: %w", app, err)
		}
		changes = append(changes, Change{Function: name, Action: "rolled back", Version: rec.Version})
	}
	return changes, nil
}
