package suite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wedge-run/wedge/internal/runtime"
)

// Artifacts the suite builds from a source checkout.
const (
	artifactBaseline = "baseline"        // benchmarks/cmd/baseline
	artifactWazero   = "wazero-baseline" // benchmarks/cmd/wazero-baseline
	artifactGoHello  = "go-hello.wasm"   // examples/go-hello, GOOS=wasip1 -buildmode=c-shared
)

// modulePath is the wedge module's path, looked for in go.mod files.
const modulePath = "github.com/wedge-run/wedge"

// ErrNoSource is returned when something must be built and there is no
// wedge checkout or no Go toolchain.
var ErrNoSource = errors.New("suite: cannot build")

type built struct {
	once sync.Once
	path string
	err  error
}

// prebuilt returns the path Options gives for artifact, if any.
func (e *Env) prebuilt(artifact string) string {
	switch artifact {
	case artifactBaseline:
		return e.opts.BaselineBinary
	case artifactWazero:
		return e.opts.WazeroBinary
	case artifactGoHello:
		return e.opts.GoHelloWasm
	}
	return ""
}

// artifact returns the path of a built artifact, building it the first
// time it is asked for.
func (e *Env) artifact(ctx context.Context, artifact string) (string, error) {
	e.mu.Lock()
	b := e.builds[artifact]
	if b == nil {
		b = &built{}
		e.builds[artifact] = b
	}
	e.mu.Unlock()
	b.once.Do(func() {
		if p := e.prebuilt(artifact); p != "" {
			if !fileExists(p) {
				b.err = fmt.Errorf("%s: %s does not exist", artifact, p)
			}
			b.path = p
			return
		}
		b.path, b.err = e.build(ctx, artifact)
		if b.err == nil && artifact == artifactGoHello {
			b.err = e.precompile(b.path)
		}
	})
	return b.path, b.err
}

// artifactsDir is the cache of compiled native code shared by the nodes
// the suite starts and the in-process engine: <peers dir>/artifacts, kept
// from session to session (artifacts are named by the module's content
// and the engine's configuration, so a stale one is never used), or the
// session's work directory when there is no cache directory.
func (e *Env) artifactsDir() string {
	if dir, err := e.peersDir(); err == nil {
		return filepath.Join(dir, "artifacts")
	}
	return filepath.Join(e.workDir, "artifacts")
}

// precompile compiles the module in file into the session's artifact
// cache, before anything is pinned: a Go guest takes seconds to compile,
// and wasmtime spreads the work over every CPU it may use. A node seeded
// with the cache (seedArtifacts) then loads it instead of compiling it on
// one pinned CPU.
func (e *Env) precompile(file string) error {
	wasm, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	engine, err := runtime.NewEngine(runtime.Config{CacheDir: e.artifactsDir()})
	if err != nil {
		return err
	}
	defer engine.Close()
	mod, err := engine.Compile(wasm)
	if err != nil {
		return fmt.Errorf("compiling %s: %w", filepath.Base(file), err)
	}
	defer mod.Release()
	if mod.HasInit {
		// The registry serves reactors from a snapshot: compile that too.
		// A failure here only means the node does the work itself.
		if snap, err := snapshotOf(engine, wasm, GuestGoHello); err == nil {
			snap.Release()
		}
	}
	return nil
}

// seedArtifacts links (or copies) the session's compiled artifacts into
// a node data directory's artifact cache, after the node started (at
// start-up a node deletes from its own cache what none of its functions
// uses) and before anything is deployed to it.
func (e *Env) seedArtifacts(dataDir string) error {
	entries, err := os.ReadDir(e.artifactsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	dst := filepath.Join(dataDir, "artifacts")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, ent := range entries {
		if !ent.Type().IsRegular() || !strings.HasSuffix(ent.Name(), ".cwasm") {
			continue
		}
		from, to := filepath.Join(e.artifactsDir(), ent.Name()), filepath.Join(dst, ent.Name())
		if err := os.Link(from, to); err == nil || errors.Is(err, os.ErrExist) {
			continue
		}
		b, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// canBuild reports why artifact cannot be had here (nil if it can): no
// prebuilt file given and no checkout or Go toolchain to build it with.
func (e *Env) canBuild(artifact string) error {
	if p := e.prebuilt(artifact); p != "" {
		if !fileExists(p) {
			return fmt.Errorf("%s does not exist", p)
		}
		return nil
	}
	if h, ok := sdkHelloByArtifact(artifact); ok {
		_, err := e.sdkToolchain(h)
		return err
	}
	if _, err := e.sourceDir(); err != nil {
		return err
	}
	_, err := goTool()
	return err
}

// buildStep returns a step building artifact, the first time a scenario
// asks and only when it has to be built; the step makes the build show on
// the progress display before the scenario needs it.
func (e *Env) buildStep(scenario, artifact string) []Step {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.planned[artifact] || e.prebuilt(artifact) != "" {
		return nil
	}
	e.planned[artifact] = true
	what := map[string]string{
		artifactBaseline: "build benchmarks/cmd/baseline",
		artifactWazero:   "build benchmarks/cmd/wazero-baseline",
		artifactGoHello:  "build examples/go-hello (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared) and compile it",
	}[artifact]
	if h, ok := sdkHelloByArtifact(artifact); ok {
		what = "build " + h.dir + " (make)"
	}
	return []Step{{
		Scenario: scenario, What: what, Estimate: map[string]time.Duration{artifactGoHello: 6 * time.Second}[artifact] + 3*time.Second,
		Run: func(ctx context.Context) (string, error) {
			p, err := e.artifact(ctx, artifact)
			if err != nil {
				return "", err
			}
			return filepath.Base(p), nil
		},
	}}
}

func (e *Env) build(ctx context.Context, artifact string) (string, error) {
	src, err := e.sourceDir()
	if err != nil {
		return "", err
	}
	goBin, err := goTool()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(e.workDir, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, artifact)
	var env []string
	var args []string
	buildDir := src
	switch artifact {
	case artifactBaseline, artifactWazero:
		// The benchmarks module, nested in the checkout.
		buildDir = filepath.Join(src, "benchmarks")
		args = []string{goBin, "build", "-o", out, "./cmd/" + artifact}
	case artifactGoHello:
		buildDir = filepath.Join(src, "examples", "go-hello")
		env = []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"}
		args = []string{goBin, "build", "-buildmode=c-shared", "-trimpath", "-o", out, "."}
	default:
		if h, ok := sdkHelloByArtifact(artifact); ok {
			return out, e.buildSDKHello(ctx, h, out)
		}
		return "", fmt.Errorf("suite: unknown artifact %q", artifact)
	}
	// Builds may use every CPU this process had before it was pinned.
	cmd, _ := e.command(ctx, e.origCPUs, args...)
	cmd.Dir = buildDir
	cmd.Env = append(os.Environ(), env...)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: %s: %v: %s", artifact, strings.Join(args[1:], " "), err, lastLines(string(msg), 5))
	}
	return out, nil
}

// sourceDir returns the wedge checkout: Options.SourceDir, or the first
// directory from the working directory upwards whose go.mod declares the
// wedge module.
func (e *Env) sourceDir() (string, error) {
	if e.opts.SourceDir != "" {
		if !isWedgeModule(e.opts.SourceDir) {
			return "", fmt.Errorf("%w: %s is not a wedge checkout (no go.mod for %s)", ErrNoSource, e.opts.SourceDir, modulePath)
		}
		return e.opts.SourceDir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if dir := findSource(wd); dir != "" {
		return dir, nil
	}
	return "", fmt.Errorf("%w: no wedge checkout at or above %s (run from one, or pass --source)", ErrNoSource, wd)
}

// findSource walks up from dir to the wedge module's root; "" if none.
func findSource(dir string) string {
	for {
		if isWedgeModule(dir) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func isWedgeModule(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == modulePath {
			return true
		}
	}
	return false
}

// goTool finds the go command.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: no go command in PATH", ErrNoSource)
}

// runOutput runs a short command and returns its standard output.
func runOutput(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, lastLines(stderr.String(), 3))
	}
	return string(out), nil
}

// lastLines returns the last n non-empty lines of s, joined by " / ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
