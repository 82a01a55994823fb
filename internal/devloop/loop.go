package devloop

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/manifest"
)

// loop runs the rounds: build what a change concerns, deploy what the
// builds changed, report how long it took.
type loop struct {
	out  *printer
	proj *Project
	dep  *deployer
	logs *logStreams
	w    *watcher
	// built holds each function's last successful build: an app deploy
	// sends every module, the last good one for a function whose build
	// just failed.
	built map[string][]byte
}

// first builds and deploys everything.
func (l *loop) first(ctx context.Context) {
	l.built = map[string][]byte{}
	l.rebuild(ctx, l.proj.Functions, time.Now(), true)
}

// round handles one batch of changes.
func (l *loop) round(ctx context.Context, b batch) {
	paths := b.paths()
	c := l.proj.classify(paths)
	began, ok := b.first(func(p string) bool { return !l.proj.output(p) })
	if !ok {
		return // only builds' outputs changed
	}
	if c.manifest {
		p, err := Load(l.proj.Dir, "", nil)
		if err != nil {
			l.out.printf("%s changed but does not load; the app as last deployed keeps serving:\n%s\n", manifest.FileName, indent(err.Error(), "    "))
			return
		}
		l.proj = p
		l.out.printf("%s changed: rebuilding the app\n", manifest.FileName)
		l.rebuild(ctx, p.Functions, began, true)
		return
	}
	if len(c.functions) == 0 {
		return
	}
	l.out.printf("changed: %s\n", l.names(paths))
	var fns []*Function
	for _, f := range l.proj.Functions { // in the project's order
		if c.functions[f.Name] != nil {
			fns = append(fns, f)
		}
	}
	l.rebuild(ctx, fns, began, false)
}

// names lists changed paths relative to the project, a few of them.
func (l *loop) names(paths []string) string {
	// A path gone already is mostly an editor's or a tool's temporary
	// file (written, then renamed over the source): show the others.
	var kept []string
	for _, p := range paths {
		if exists(p) && !l.proj.output(p) {
			kept = append(kept, p)
		}
	}
	if len(kept) > 0 {
		paths = kept
	}
	var rel []string
	for _, p := range paths {
		if r, err := filepath.Rel(l.proj.Dir, p); err == nil {
			p = r
		}
		rel = append(rel, p)
	}
	sort.Strings(rel)
	if len(rel) > 3 {
		return strings.Join(rel[:3], ", ") + fmt.Sprintf(" and %d more", len(rel)-3)
	}
	return strings.Join(rel, ", ")
}

// rebuild builds fns, then deploys what changed. began is when the
// change happened: the times printed run from there to the new version
// serving (a deploy answers once the node serves the new version).
// force deploys an app even if no module changed (its manifest did).
func (l *loop) rebuild(ctx context.Context, fns []*Function, began time.Time, force bool) {
	buildStart := time.Now()
	changed := map[string][]byte{}
	var same []string // built fine, and made what is deployed
	for _, f := range fns {
		if f.Output != "" {
			l.out.printf("building %s: %s\n", f.Name, f.Build)
		}
		m, err := f.Build.Build(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			l.out.printf("build of %s failed; %s:\n%s\n", f.Name, l.dep.serving(f.Name), indent(err.Error(), "    "))
			continue
		}
		l.built[f.Name] = m
		if l.dep.same(f.Name, m) {
			same = append(same, f.Name)
		} else {
			changed[f.Name] = m
		}
	}
	buildTime := time.Since(buildStart)
	if len(changed) == 0 && !force {
		if len(same) > 0 {
			l.out.printf("%s unchanged: the build made what is deployed\n", strings.Join(same, ", "))
		}
		return
	}
	deployStart := time.Now()
	if l.proj.App == nil {
		f := l.proj.Functions[0]
		m, ok := changed[f.Name]
		if !ok {
			return
		}
		version, err := l.dep.function(ctx, f, m)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			l.out.printf("deploy of %s failed; %s:\n%s\n", f.Name, l.dep.serving(f.Name), indent(deployError(err), "    "))
			return
		}
		l.report("deployed", f.Name, version, began, buildTime, time.Since(deployStart))
		l.logs.follow(f.Name)
		return
	}
	l.deployApp(ctx, began, buildTime, deployStart)
}

// deployApp sends the whole app with the last good module of each
// function; the node changes only what differs.
func (l *loop) deployApp(ctx context.Context, began time.Time, buildTime time.Duration, deployStart time.Time) {
	p := l.proj
	var missing []string
	modules := map[string][]byte{}
	for _, f := range p.Functions {
		if m, ok := l.built[f.Name]; ok {
			modules[f.Name] = m
		} else {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		l.out.printf("app %s not deployed: %s never built yet\n", p.App.Name, strings.Join(missing, ", "))
		return
	}
	if err := p.App.Check(); err != nil {
		l.out.printf("app %s not deployed; the app as last deployed keeps serving:\n%s\n", p.App.Name, indent(err.Error(), "    "))
		return
	}
	changes, err := l.dep.app(ctx, p, modules)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		l.out.printf("deploy of app %s failed; the app as last deployed keeps serving:\n%s\n", p.App.Name, indent(deployError(err), "    "))
		return
	}
	deployTime := time.Since(deployStart)
	for _, c := range changes {
		switch c.Action {
		case "removed":
			l.out.printf("removed %s (no longer in %s)\n", c.Function, manifest.FileName)
			l.logs.drop(c.Function)
		case "created", "updated":
			l.report("deployed", c.Function, c.Version, began, buildTime, deployTime)
		}
	}
	for _, f := range p.Functions {
		l.logs.follow(f.Name)
	}
}

// report prints the loop's time: "redeployed hello in 312ms".
func (l *loop) report(verb, name string, version int64, began time.Time, build, deploy time.Duration) {
	if version > 1 {
		verb = "re" + verb
	}
	l.out.printf("%s %s in %v (version %d; build %v, deploy %v)\n", verb, name, round(time.Since(began)), version, round(build), round(deploy))
}

// deployError is the node's message for a refused deploy.
func deployError(err error) string {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s (HTTP %d)", ae.Message, ae.Status)
	}
	return err.Error()
}
