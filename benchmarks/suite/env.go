package suite

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/benchmarks/loadgen"
	"github.com/wedge-run/wedge/examples"
)

// Env is what the scenarios of one session share: the options and plan,
// a scratch directory, the CPUs servers are pinned to, the load generator,
// built artifacts, notes for the report and cleanups.
type Env struct {
	opts    Options
	plan    Plan
	clock   Clock
	workDir string

	origCPUs      []int // this process's affinity before pinning (for builds)
	serverCPUs    []int // nil: servers run unpinned
	generatorCPUs []int // nil: this process is not pinned
	pinOnce       sync.Once
	pinning       string // guarded by mu once the session runs
	cpuIdle       string // how idle CPUs waited (report.Machine.CPUIdle)

	// measure runs one load-generator measurement (loadgen.Run; tests
	// substitute a fake).
	measure func(ctx context.Context, cfg loadgen.Config) (loadgen.Result, error)

	mu          sync.Mutex
	notes       map[string][]string // by report scenario name
	failures    []string            // what failed, "scenario: line"; the session fails
	pinProblems []string
	cleanups    []func()
	versions    map[string]string
	builds      map[string]*built
	planned     map[string]bool // build steps already planned
}

func newEnv(opts Options, plan Plan, workDir string) *Env {
	clock := opts.Clock
	if clock == nil {
		clock = systemClock{}
	}
	return &Env{
		opts: opts, plan: plan, clock: clock, workDir: workDir,
		measure:  loadgen.Run,
		notes:    map[string][]string{},
		versions: buildVersions(),
		builds:   map[string]*built{},
		planned:  map[string]bool{},
	}
}

// Options returns the session's options.
func (e *Env) Options() Options { return e.opts }

// Plan returns the session's plan.
func (e *Env) Plan() Plan { return e.plan }

// WorkDir is a scratch directory removed when the session ends.
func (e *Env) WorkDir() string { return e.workDir }

// Measure runs one load-generator measurement with the generator pinned
// as the session is.
func (e *Env) Measure(ctx context.Context, cfg loadgen.Config) (loadgen.Result, error) {
	e.applyPin()
	return e.measure(ctx, cfg)
}

// Note adds a line to the notes of the report scenario called scenario.
// Repeated lines are kept once.
func (e *Env) Note(scenario, line string) { e.note(scenario, line) }

func (e *Env) note(scenario, line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Contains(e.notes[scenario], line) {
		e.notes[scenario] = append(e.notes[scenario], line)
	}
}

// Fail notes line like Note and marks the session failed: Run still
// writes the report, then returns an error wrapping ErrFailed. Use it for
// what should have been measured and was not (a server that did not
// start, a guest that answered wrong); what cannot run on this machine
// (a peer that is not installed, no checkout to build from) is a Note.
func (e *Env) Fail(scenario, line string) { e.fail(scenario, line) }

func (e *Env) fail(scenario, line string) {
	e.note(scenario, line)
	e.failure(scenario, line)
}

// failure marks the session failed without a note (the note was made).
func (e *Env) failure(scenario, line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures = append(e.failures, scenario+": "+line)
}

// failed returns an error wrapping ErrFailed that names what failed, or
// nil.
func (e *Env) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.failures) == 0 {
		return nil
	}
	const shown = 3
	list := e.failures
	more := ""
	if len(list) > shown {
		list, more = list[:shown], fmt.Sprintf("; and %d more", len(list)-shown)
	}
	return fmt.Errorf("%w: %d failed (see the report's notes): %s%s", ErrFailed, len(e.failures), strings.Join(list, "; "), more)
}

func (e *Env) notesFor(scenario string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.notes[scenario])
}

func (e *Env) pinProblem(line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Contains(e.pinProblems, line) {
		e.pinProblems = append(e.pinProblems, line)
	}
}

// SetVersion records a component version for the report's machine table.
func (e *Env) SetVersion(component, version string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.versions[component] = version
}

func (e *Env) versionsCopy() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]string, len(e.versions))
	for k, v := range e.versions {
		out[k] = v
	}
	return out
}

// AddCleanup registers fn to run when the session ends, last added first.
func (e *Env) AddCleanup(fn func()) { e.addCleanup(fn) }

func (e *Env) addCleanup(fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cleanups = append(e.cleanups, fn)
}

// close runs the cleanups.
func (e *Env) close() {
	e.mu.Lock()
	fns := e.cleanups
	e.cleanups = nil
	e.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// HelloWasm is the WAT hello example (examples.HelloWAT) as a binary
// module.
func (e *Env) HelloWasm() ([]byte, error) {
	return wasmtime.Wat2Wasm(examples.HelloWAT)
}

// versionedModules are the dependencies whose versions the report shows.
var versionedModules = map[string]string{
	"github.com/bytecodealliance/wasmtime-go/v39": "wasmtime-go",
	"github.com/valyala/fasthttp":                 "fasthttp",
}

// buildVersions reads component versions from this binary's build
// information.
func buildVersions() map[string]string {
	v := map[string]string{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	for _, d := range bi.Deps {
		if name, ok := versionedModules[d.Path]; ok {
			v[name] = d.Version
		}
	}
	return v
}

// sourceVersions fills versions missing from the build information (test
// binaries have none) from the checkout's go.mod.
func (e *Env) sourceVersions() {
	src, err := e.sourceDir()
	if err != nil {
		return
	}
	b, err := os.ReadFile(src + "/go.mod")
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) < 2 {
			continue
		}
		if name, ok := versionedModules[f[0]]; ok && e.versions[name] == "" {
			e.versions[name] = f[1]
		}
	}
}

// gitCommit returns the short commit of the checkout at dir, with
// "-dirty" when it has uncommitted changes; "" when unknown.
func gitCommit(ctx context.Context, dir string) string {
	if dir == "" {
		return ""
	}
	out, err := runOutput(ctx, dir, nil, "git", "rev-parse", "--short", "HEAD")
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(out)
	if st, err := runOutput(ctx, dir, nil, "git", "status", "--porcelain", "--untracked-files=no"); err == nil && strings.TrimSpace(st) != "" {
		commit += "-dirty"
	}
	return commit
}

// fileExists reports whether path names a regular file.
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
