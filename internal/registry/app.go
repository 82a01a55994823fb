package registry

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/storage"
	"github.com/wedge-run/wedge/model"
)

// Change is what an app deploy did to one function.
type Change struct {
	Function string `json:"function"`
	Action   string `json:"action"` // created, updated, unchanged, removed
	Version  int64  `json:"version"`
}

// DeployApp deploys the functions of an app together with its buckets:
// every module is validated and compiled before anything changes,
// routes are checked against the rest of the node, functions of the app
// that are no longer listed are removed, and the functions, the app's
// record (its function names and buckets) and the removals are stored
// in one transaction and published in one swap of the live table. A
// function whose module and settings are unchanged keeps its version.
// If anything fails, nothing changes. An app with no functions is
// removed, its record with it. Like Deploy, it stops and returns
// ctx.Err() if ctx ends before the change is stored.
func (r *Registry) DeployApp(ctx context.Context, app string, buckets []model.Bucket, reqs []DeployRequest) ([]Change, error) {
	if err := model.ValidateName(app); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	for _, b := range buckets {
		if err := b.Validate(); err != nil {
			return nil, err
		}
	}
	var changes []Change
	var ps []*prepared
	release := func() {
		for _, p := range ps {
			p.mod.Release()
		}
	}
	keep := map[string]bool{}
	deployID := time.Now().UnixNano()
	for _, req := range reqs {
		req.App = app
		if req.Info.AppDeploy == 0 {
			req.Info.AppDeploy = deployID
		}
		if err := jsModule(&req); err != nil { // before comparing: the stored module is the combination
			release()
			return nil, fmt.Errorf("function %s: %w", req.Name, err)
		}
		rec, err := r.record(req)
		if err != nil {
			release()
			return nil, fmt.Errorf("function %s: %w", req.Name, err)
		}
		keep[req.Name] = true
		if cur, ok := r.Get(req.Name); ok && cur.Record.App != app {
			release()
			return nil, fmt.Errorf("%w: function %q belongs to app %q", ErrRouteConflict, req.Name, appName(cur.Record.App))
		} else if ok && sameSpec(cur.Record, rec) {
			changes = append(changes, Change{Function: req.Name, Action: "unchanged", Version: cur.Record.Version})
			continue
		}
		p, err := r.prepare(ctx, req)
		if err != nil {
			release()
			return nil, fmt.Errorf("function %s: %w", req.Name, err)
		}
		ps = append(ps, p)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		release()
		return nil, err
	}
	var remove []string
	removing := map[string]bool{}
	for _, rec := range r.List() {
		if rec.App == app && !keep[rec.Name] {
			remove = append(remove, rec.Name)
			removing[rec.Name] = true
		}
	}
	// Unchanged functions keep their routes; count them as part of the set.
	all := append([]*prepared(nil), ps...)
	for _, c := range changes {
		if f, ok := r.Get(c.Function); ok {
			all = append(all, &prepared{rec: f.Record})
		}
	}
	if err := r.checkRoutes(all, removing); err != nil {
		release()
		return nil, err
	}
	recs, created, err := r.commit(ps, remove, r.appRecord(app, keep, buckets))
	if err != nil {
		return nil, err
	}
	for i, rec := range recs {
		action := "updated"
		if created[i] {
			action = "created"
		}
		changes = append(changes, Change{Function: rec.Name, Action: action, Version: rec.Version})
	}
	for _, name := range remove {
		changes = append(changes, Change{Function: name, Action: "removed"})
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Function < changes[j].Function })
	return changes, nil
}

// appRecord is the change of app's record a deploy of the functions
// named in keep makes: a new record, or its removal when keep is empty
// (nothing when there was no record either). Caller holds r.mu.
func (r *Registry) appRecord(app string, keep map[string]bool, buckets []model.Bucket) appChange {
	stamp, origin := r.stamp()
	if len(keep) == 0 {
		if _, ok := r.live.Load().apps[app]; !ok {
			return appChange{}
		}
		return appChange{name: app, remove: &storage.Tombstone{Name: storage.AppTombstone(app), Stamp: stamp, Origin: origin}}
	}
	a := &model.App{V: model.AppVersion, Name: app, Buckets: append([]model.Bucket(nil), buckets...), Stamp: stamp, Origin: origin}
	for name := range keep {
		a.Functions = append(a.Functions, name)
	}
	sort.Strings(a.Functions)
	sort.Slice(a.Buckets, func(i, j int) bool { return a.Buckets[i].Name < a.Buckets[j].Name })
	if cur, ok := r.live.Load().apps[app]; ok && slices.Equal(cur.Functions, a.Functions) && slices.Equal(cur.Buckets, a.Buckets) && cur.Rollback == nil {
		return appChange{} // unchanged: no new record to replicate
	}
	return appChange{name: app, put: a}
}

// appChange is what a commit does to an app's record: store put, or
// remove the app and keep remove as its tombstone, or nothing.
type appChange struct {
	name   string
	put    *model.App
	remove *storage.Tombstone
}

// apply makes the change in a table being built.
func (c appChange) apply(t *table) {
	switch {
	case c.put != nil:
		t.apps[c.name] = *c.put
	case c.remove != nil:
		delete(t.apps, c.name)
	}
}

// notify tells the app listeners.
func (c appChange) notify(r *Registry) {
	switch {
	case c.put != nil:
		r.notifyApp(*c.put, false)
	case c.remove != nil:
		r.notifyApp(model.App{Name: c.name, Stamp: c.remove.Stamp, Origin: c.remove.Origin}, true)
	}
}

// Apps returns the app records, sorted by name.
func (r *Registry) Apps() []model.App {
	t := r.live.Load()
	out := make([]model.App, 0, len(t.apps))
	for _, a := range t.apps {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// OnAppChange registers fn to be called after every change of an app's
// record (the new record, or the removed app with deleted=true), and
// after Load (with a zero record).
func (r *Registry) OnAppChange(fn func(app model.App, deleted bool)) {
	r.listenMu.Lock()
	r.appListeners = append(r.appListeners, fn)
	r.listenMu.Unlock()
}

func (r *Registry) notifyApp(a model.App, deleted bool) {
	r.listenMu.Lock()
	ls := append([]func(model.App, bool){}, r.appListeners...)
	r.listenMu.Unlock()
	for _, fn := range ls {
		fn(a, deleted)
	}
}

// ApplyApp stores and publishes an app record replicated from another
// node, or removes the app when deleted, if it is newer than the record
// or tombstone held here. Its functions replicate on their own.
func (r *Registry) ApplyApp(a model.App, deleted bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.appNewerThanHeld(a.Name, a.Stamp, a.Origin) {
		return nil
	}
	c := appChange{name: a.Name}
	if deleted {
		c.remove = &storage.Tombstone{Name: storage.AppTombstone(a.Name), Stamp: a.Stamp, Origin: a.Origin}
	} else {
		a.V = model.AppVersion
		c.put = &a
	}
	if _, err := r.opt.DB.Commit(storage.Change{App: c.put, RemoveApp: c.remove}); err != nil {
		return err
	}
	next := r.cloneTable()
	c.apply(next)
	r.live.Store(next)
	r.changed()
	c.notify(r)
	return nil
}

// appBehind reports whether this node holds neither app's record nor
// its tombstone as of (stamp, origin) or later: a function record of an
// app rollback stamped so must wait for the app's record.
func (r *Registry) appBehind(app string, stamp hlc.Timestamp, origin string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.appNewerThanHeld(app, stamp, origin)
}

// appNewerThanHeld reports whether a change of app stamped (stamp,
// origin) is newer than its record and its tombstone. Caller holds r.mu.
func (r *Registry) appNewerThanHeld(app string, stamp hlc.Timestamp, origin string) bool {
	if a, ok := r.live.Load().apps[app]; ok && !olderThan(a.Stamp, a.Origin, stamp, origin) {
		return false
	}
	tombs, _ := r.opt.DB.Tombstones()
	for _, t := range tombs {
		if t.Name == storage.AppTombstone(app) && !olderThan(t.Stamp, t.Origin, stamp, origin) {
			return false
		}
	}
	return true
}

func appName(a string) string {
	if a == "" {
		return "(none)"
	}
	return a
}

// sameSpec reports whether a new record would change nothing: the same
// module and the same settings.
func sameSpec(old, new model.Function) bool {
	return reflect.DeepEqual(settings(old), settings(new))
}

// settings keeps what a deploy sets, with empty collections as nil.
func settings(f model.Function) model.Function {
	f.V, f.Version, f.Entry, f.Kind, f.Script, f.Snapshot = 0, 0, "", "", nil, nil // made from the module (SHA256)
	f.Stamp, f.Origin = hlc.Timestamp{}, ""
	f.Created, f.Updated = time.Time{}, time.Time{}
	f.VersionInfo = model.VersionInfo{} // who and when, not what
	if len(f.Config) == 0 {
		f.Config = nil
	}
	if len(f.Secrets) == 0 {
		f.Secrets = nil
	}
	if len(f.KVGrants) == 0 {
		f.KVGrants = nil
	}
	if len(f.Triggers) == 0 {
		f.Triggers = nil
	}
	if len(f.Routes) == 0 {
		f.Routes = nil
	}
	if len(f.AllowedHosts) == 0 {
		f.AllowedHosts = nil
	}
	return f
}

// Unchanged reports whether deploying req would change nothing: the
// function exists with the same module and settings (what DeployApp
// skips). It returns the live record then. A node that deploys the same
// functions at every start (serve --demo) uses it to keep their versions.
func (r *Registry) Unchanged(req DeployRequest) (model.Function, bool) {
	if err := jsModule(&req); err != nil {
		return model.Function{}, false
	}
	rec, err := r.record(req)
	if err != nil {
		return model.Function{}, false
	}
	cur, ok := r.Get(req.Name)
	if !ok || !sameSpec(cur.Record, rec) {
		return model.Function{}, false
	}
	return cur.Record, true
}
