package suite

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/benchmarks/loadgen"
	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/internal/testutil"
)

var (
	buildOnce             sync.Once
	binDir                string
	wedgeBin, baselineBin string
	buildErr              error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinaries builds cmd/wedge and benchmarks/cmd/baseline once per test
// binary, in parallel.
func buildBinaries(t *testing.T) (wedge, baseline string) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wedge-suite-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		wedgeBin, baselineBin = filepath.Join(dir, "wedge"), filepath.Join(dir, "baseline")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		// wedge in the root module, the baseline in the benchmarks module.
		root := testutil.RepoRoot(t)
		for i, b := range [][3]string{{wedgeBin, root, "./cmd/wedge"}, {baselineBin, filepath.Join(root, "benchmarks"), "./cmd/baseline"}} {
			wg.Go(func() {
				cmd := exec.Command("go", "build", "-o", b[0], b[2])
				cmd.Dir = b[1]
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("go build %s: %v\n%s", b[2], err, out)
				}
			})
		}
		wg.Wait()
		buildErr = errors.Join(errs...)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return wedgeBin, baselineBin
}

// TestRunEndToEnd runs the real suite with an ultra-short plan: a wedge
// node and the bare fasthttp baseline as pinned child processes, the WAT
// guest in process, and 1 and 20 deployed functions; then checks the
// report directory.
func TestRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wedge and starts servers")
	}
	wedge, baseline := buildBinaries(t)
	before, _ := loadgen.AllowedCPUs()
	out := filepath.Join(t.TempDir(), "report")
	plan := Plan{
		Profile:     "e2e",
		Connections: []int{16}, Repetitions: 1, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond,
		MicroRepetitions: 1, MicroDuration: 100 * time.Millisecond,
		FunctionCounts: []int{1, 20}, ScaleConnections: 4, ScaleRepetitions: 1,
		ScaleWarmup: 50 * time.Millisecond, ScaleDuration: 200 * time.Millisecond, DeployConcurrency: 4,
	}
	var progress bytes.Buffer
	run, err := Run(t.Context(), Options{
		Plan: &plan, WedgeBinary: wedge, BaselineBinary: baseline, SkipGoHello: true,
		Servers: []string{SeriesWedgeWAT, SeriesWedgeWASI, SeriesFasthttp}, OutDir: out, Progress: &progress,
		PeersDir: t.TempDir(), SourceDir: testutil.RepoRoot(t),
	})
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := loadgen.AllowedCPUs(); !slices.Equal(before, after) {
		t.Errorf("CPU affinity %v after the run, was %v", after, before)
	}

	for _, name := range []string{report.ReportFile, report.ResultsFile, "http-hello-throughput.svg", "http-hello-ratio.svg",
		"invoke-in-process-throughput.svg", "deployed-functions-throughput.svg"} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	saved, err := report.LoadRun(filepath.Join(out, report.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if saved.Title != run.Title || len(saved.Scenarios) != 3 {
		t.Fatalf("results.json: %q with %d scenarios", saved.Title, len(saved.Scenarios))
	}
	if run.Machine.Pinning == "" || run.Machine.Versions["wedge"] == "" || run.Machine.Versions["wasmtime-go"] == "" {
		t.Errorf("machine %+v", run.Machine)
	}

	h := run.Scenarios[0]
	if h.Name != HTTPScenarioName || h.Baseline != SeriesFasthttp || len(h.Series) != 3 {
		t.Fatalf("HTTP scenario %+v", h)
	}
	for _, s := range h.Series {
		p, ok := s.Lookup("16")
		if !ok || len(p.Samples.Throughput) != 1 || p.Samples.Throughput[0] <= 0 || p.Samples.P99[0] <= 0 {
			t.Errorf("%s: %+v", s.Name, s.Points)
		}
	}
	// Notes: the session's CPU accounting, perhaps a busy generator (the
	// race detector slows it down), nothing that failed.
	if !strings.Contains(h.Description, "other processes kept") || strings.Contains(h.Description, "not measured") ||
		strings.Contains(h.Description, "failed") {
		t.Errorf("HTTP scenario notes:\n%s", h.Description)
	}
	m := run.Scenarios[1]
	if m.Name != MicroScenarioName || len(m.Series) != 1 || m.Series[0].Name != GuestWATHello ||
		!strings.Contains(m.Description, "| wat-hello |") {
		t.Errorf("in-process scenario %+v", m)
	}
	s := run.Scenarios[2]
	if s.Name != ScaleScenarioName || len(s.Series) != 1 || len(s.Series[0].Points) != 2 || s.Series[0].Points[1].Config != "20" {
		t.Fatalf("scaling scenario %+v", s)
	}
	if !strings.Contains(s.Description, "| 20 |") || strings.Contains(s.Description, "Notes") || strings.Contains(s.Description, "—") {
		t.Errorf("scaling description:\n%s", s.Description)
	}
	// The targets of the series measured, at the one connection count
	// measured: WAT and WASI command against fasthttp.
	var goals []string
	for _, r := range h.Evaluate() {
		goals = append(goals, r.Target.Series+"@"+r.Config)
		if math.IsNaN(r.Measured) || r.Measured <= 0 {
			t.Errorf("target %+v: measured %v", r.Target, r.Measured)
		}
	}
	if want := []string{"wedge-wat@16", "wedge-wasi@16"}; !slices.Equal(goals, want) {
		t.Errorf("targets evaluated %v, want %v", goals, want)
	}
	md, _ := os.ReadFile(filepath.Join(out, report.ReportFile))
	for _, want := range []string{"# wedge benchmark suite (e2e)", "| fasthttp | 16 | 1 |", "| wedge-wat | 16 | 1 |", "| wedge-wasi | 16 | 1 |",
		"### Targets", "| WAT hello, throughput vs bare fasthttp | issue 15 | wedge-wat | 16 | ≥ 0.60× fasthttp |",
		"| minimal WASI command, throughput vs bare fasthttp | issue 15 | wedge-wasi | 16 | ≥ 0.50× fasthttp |",
		"![HTTP hello: throughput relative to fasthttp](http-hello-ratio.svg)", "| wat-hello | 1 | 1 |", "| wedge-wat | 20 | 1 |"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if !strings.Contains(progress.String(), "wrote "+filepath.Join(out, report.ReportFile)) {
		t.Error("progress does not say where the report is")
	}
}

// TestRunAgainstTarget measures a node the suite did not start: the hello
// is deployed there as bench-wat-hello and removed afterwards, and the
// scaling scenario is left out with a note.
func TestRunAgainstTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wedge and starts servers")
	}
	wedge, _ := buildBinaries(t)
	starter := newEnv(Options{WedgeBinary: wedge, NoPin: true}, QuickPlan(), t.TempDir())
	t.Cleanup(starter.close)
	node, err := starter.StartNode(t.Context(), t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	plan := Plan{Profile: "target", Connections: []int{4}, Repetitions: 1, Duration: 100 * time.Millisecond,
		FunctionCounts: []int{1}, ScaleConnections: 1, ScaleRepetitions: 1, ScaleDuration: time.Millisecond}
	out := t.TempDir()
	run, err := Run(t.Context(), Options{Plan: &plan, Target: node.Public, TargetAdmin: node.Admin, TargetToken: node.Token,
		Scenarios: []string{"http", "functions"}, Servers: []string{SeriesWedgeWAT}, OutDir: out, NoPin: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Scenarios) != 2 || len(run.Scenarios[0].Series) != 1 || run.Scenarios[0].Series[0].Name != SeriesWedgeWAT {
		t.Fatalf("run %+v", run.Scenarios)
	}
	if d := run.Scenarios[1].Description; len(run.Scenarios[1].Series) != 0 || !strings.Contains(d, "--target") {
		t.Errorf("scaling scenario %+v", run.Scenarios[1])
	}
	fns, err := node.Client().List(t.Context())
	if err != nil || len(fns) != 0 {
		t.Errorf("functions left on the target: %v, %v", fns, err)
	}
	// The report renders with a scenario that has only notes.
	if _, err := os.Stat(filepath.Join(out, "deployed-functions-throughput.svg")); err != nil {
		t.Error(err)
	}
}
