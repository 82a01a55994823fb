package registry

import (
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/storage"
)

// Change is what an app deploy did to one function.
type Change struct {
	Function string `json:"function"`
	Action   string `json:"action"` // created, updated, unchanged, removed
	Version  int64  `json:"version"`
}

// DeployApp deploys the functions of an app together: every module is
// validated and compiled before anything changes, routes are checked
// against the rest of the node, functions of the app that are no longer
// listed are removed, and the live table changes in one swap. A function
// whose module and settings are unchanged keeps its version. If anything
// fails before the swap, nothing changes.
func (r *Registry) DeployApp(app string, reqs []DeployRequest) ([]Change, error) {
	if err := ValidateName(app); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	var changes []Change
	var ps []*prepared
	release := func() {
		for _, p := range ps {
			p.mod.Release()
		}
	}
	keep := map[string]bool{}
	for _, req := range reqs {
		req.App = app
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
		p, err := r.prepare(req)
		if err != nil {
			release()
			return nil, fmt.Errorf("function %s: %w", req.Name, err)
		}
		ps = append(ps, p)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
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
	recs, created, err := r.commit(ps, remove)
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

func appName(a string) string {
	if a == "" {
		return "(none)"
	}
	return a
}

// sameSpec reports whether a new record would change nothing: the same
// module and the same settings.
func sameSpec(old, new storage.Function) bool {
	return reflect.DeepEqual(settings(old), settings(new))
}

// settings keeps what a deploy sets, with empty collections as nil.
func settings(f storage.Function) storage.Function {
	f.Version, f.Entry, f.Snapshot = 0, "", nil
	f.Stamp, f.Origin = hlc.Timestamp{}, ""
	f.Created, f.Updated = time.Time{}, time.Time{}
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
	return f
}

// Unchanged reports whether deploying req would change nothing: the
// function exists with the same module and settings (what DeployApp
// skips). It returns the live record then. A node that deploys the same
// functions at every start (serve --demo) uses it to keep their versions.
func (r *Registry) Unchanged(req DeployRequest) (storage.Function, bool) {
	if err := jsModule(&req); err != nil {
		return storage.Function{}, false
	}
	rec, err := r.record(req)
	if err != nil {
		return storage.Function{}, false
	}
	cur, ok := r.Get(req.Name)
	if !ok || !sameSpec(cur.Record, rec) {
		return storage.Function{}, false
	}
	return cur.Record, true
}
