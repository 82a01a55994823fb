package registry

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"

	"github.com/wedge-run/wedge/model"
)

// A gradual rollout is one record: the new version (the function's
// record) with Traffic, the percentage of requests it serves, and
// StableVersion, the kept version that serves the rest. The live
// Function holds both modules (Function.Stable), and Choose picks one per
// request, so a rollout, a promote and a rollback are each one record
// change that replicates like a deploy. The choice is made here, next
// to the route match, so every way into a function (HTTP, events) can
// make it the same way.

// split sets rec's rollout from req: a Traffic of 1..99 makes rec serve
// that share, and the rest stay on the version serving now (or the one
// a replicated record names). A function's first version serves every
// request whatever its traffic (an app's manifest may say traffic = 10
// from its first deploy on). Caller does not hold r.mu.
func (r *Registry) split(rec *model.Function, req DeployRequest) error {
	if err := model.ValidateTraffic(req.Traffic); err != nil {
		return fmt.Errorf("function %q: %w", rec.Name, err)
	}
	if req.Traffic == 0 || req.Traffic == 100 {
		return nil
	}
	stable := req.StableVersion
	if stable == 0 {
		cur, ok := r.Get(rec.Name)
		if !ok {
			return nil // a first version has nothing to split with: it serves every request
		}
		stable = cur.Record.Version
		if cur.Record.StableVersion != 0 {
			stable = cur.Record.StableVersion // a new rollout over one in progress splits with the same stable version
		}
	}
	rec.Traffic, rec.StableVersion = req.Traffic, stable
	return nil
}

// withStable attaches f's stable version's module when f is a rollout,
// from the kept version's artifact (compiled from its blob if missing).
// A stable version that cannot be loaded leaves f serving every request,
// logged.
func (r *Registry) withStable(f *Function) *Function {
	if f.Record.StableVersion == 0 {
		return f
	}
	vs, err := r.opt.DB.Versions(f.Record.Name)
	if err == nil {
		for _, v := range vs {
			if v.Version != f.Record.StableVersion {
				continue
			}
			mod, lerr := r.opt.Engine.Load(v.ServedSHA())
			if lerr != nil {
				blob, berr := r.opt.DB.Blob(v.ServedSHA())
				if berr != nil {
					err = berr
					break
				}
				if mod, err = r.opt.Engine.Compile(blob); err != nil {
					break
				}
			}
			f.Stable = &Function{Record: v, Module: mod, Env: r.env(v)}
			return f
		}
	}
	r.opt.Log.Warn("rollout without its stable version; the new version serves every request",
		"function", f.Record.Name, "stable_version", f.Record.StableVersion, "err", err)
	return f
}

// Choose returns the version that serves a request: f itself, or during
// a rollout its stable version for the share f does not serve. key, when
// not empty (the request's traffic key, TrafficKey), makes the choice the
// same for every request carrying it; empty, the choice is random.
func (f *Function) Choose(key []byte) *Function {
	if f.Stable == nil {
		return f
	}
	var bucket int
	if len(key) > 0 {
		h := fnv.New32a()
		h.Write([]byte(f.Record.Name))
		h.Write([]byte{0})
		h.Write(key)
		bucket = int(h.Sum32() % 100)
	} else {
		bucket = rand.IntN(100)
	}
	if bucket < f.Record.Traffic {
		return f
	}
	return f.Stable
}

// TrafficKey splits a function's traffic key ("header:X-User") into its
// kind ("header" or "cookie") and name; both empty when there is none.
func TrafficKey(spec string) (kind, name string) {
	kind, name, _ = strings.Cut(spec, ":")
	return kind, name
}
