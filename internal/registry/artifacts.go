package registry

// Compiled artifacts (the engine's cache of native code, one file per
// module) are kept exactly while a live version uses them: the registry
// tells the engine which modules its live versions serve, and asks it to
// collect the rest at start-up and after every change that replaced or
// removed a version. The engine never deletes an artifact a module still
// holds (an in-flight request of a replaced version): that one goes when
// its last reference is released. A version uses its module and, when it
// is served from a snapshot, the snapshot's module; keeping the original
// too means a redeploy of the same module with other settings
// pre-initializes it again without compiling it again.

// trackArtifacts records the modules the live table t and the kept
// versions use. Caller holds
// r.mu (or is Load).
func (r *Registry) trackArtifacts(t *table) {
	// The kept versions' modules stay compiled too: a rollback to one
	// loads its artifact instead of compiling it (versions.go).
	set, err := r.opt.DB.KeptModules()
	if err != nil {
		r.opt.Log.Warn("listing kept versions; keeping every artifact this time", "err", err)
		r.artifacts.Store(nil)
		return
	}
	for _, f := range t.byName {
		set[f.Record.SHA256], set[f.Record.ServedSHA()] = true, true
	}
	r.artifacts.Store(&set)
}

// keepsArtifact reports whether a live version uses the module sum. It
// runs under the engine's cache lock: it only reads an atomic pointer.
func (r *Registry) keepsArtifact(sum string) bool {
	set := r.artifacts.Load()
	return set == nil || (*set)[sum]
}

// collectArtifacts asks the engine to delete the artifacts no live version
// uses, logging what it could not do.
func (r *Registry) collectArtifacts() {
	n, err := r.opt.Engine.CollectArtifacts()
	if err != nil {
		r.opt.Log.Warn("collecting compiled artifacts", "err", err)
	} else if n > 0 {
		r.opt.Log.Debug("collected compiled artifacts", "removed", n)
	}
}
