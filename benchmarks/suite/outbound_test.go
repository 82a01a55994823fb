package suite

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/benchmarks/report"
)

func TestOutboundPlan(t *testing.T) {
	count := func(p Plan) int {
		env := newEnv(Options{NoPin: true, WedgeBinary: "w"}, p, t.TempDir())
		st, err := (&outboundScenario{}).Plan(env)
		if err != nil {
			t.Fatal(err)
		}
		return len(st)
	}
	// setup + one step per series and run + stop.
	q, f := QuickPlan(), FullPlan()
	if n := count(q); n != 2+q.OutboundRepetitions*len(outboundSeries) {
		t.Errorf("quick: %d steps", n)
	}
	if n := count(f); n != 2+f.OutboundRepetitions*len(outboundSeries) {
		t.Errorf("full: %d steps", n)
	}
	// The quick profile stays short: a few seconds in all.
	if d := time.Duration(q.OutboundRepetitions*len(outboundSeries)) * q.OutboundDuration * 4 / 3; d > 5*time.Second {
		t.Errorf("quick outbound measures for %v", d)
	}
	if n := count(Plan{Profile: "none"}); n != 0 {
		t.Errorf("a plan without outbound repetitions planned %d steps", n)
	}
	bad := q
	bad.OutboundDuration = 0
	if err := bad.validate(); err == nil {
		t.Error("an outbound scenario without a duration is accepted")
	}
	if o, ok := outboundOverhead(map[string][]float64{OutboundGuest: {50, 60, 70}, OutboundInvokeOnly: {20}, OutboundNative: {25}}); !ok || o != 15 {
		t.Errorf("overhead %v %v, want 15", o, ok)
	}
	if _, ok := outboundOverhead(map[string][]float64{OutboundGuest: {50}}); ok {
		t.Error("an overhead without the baselines")
	}
}

// TestOutboundEndToEnd runs the outbound scenario for real with a tiny
// plan: a local server, a guest doing a GET per invocation through the
// real runtime and outbound client, the native baselines; then checks the
// report holds every series and the overhead line.
func TestOutboundEndToEnd(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report")
	plan := Plan{Profile: "e2e", OutboundRepetitions: 1, OutboundDuration: 150 * time.Millisecond}
	var progress bytes.Buffer
	run, err := Run(t.Context(), Options{Plan: &plan, WedgeBinary: filepath.Join(t.TempDir(), "no-wedge"), NoPin: true,
		Scenarios: []string{"outbound"}, OutDir: out, Progress: &progress, PeersDir: t.TempDir()})
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Scenarios) != 1 || run.Scenarios[0].Name != OutboundScenarioName {
		t.Fatalf("report scenarios %+v", run.Scenarios)
	}
	sc := run.Scenarios[0]
	if len(sc.Series) != len(outboundSeries) {
		t.Fatalf("%d series, want %v", len(sc.Series), outboundSeries)
	}
	for i, s := range sc.Series {
		p, ok := s.Lookup("1")
		if s.Name != outboundSeries[i] || !ok || p.Samples.Throughput[0] <= 0 || p.Samples.P50[0] <= 0 {
			t.Errorf("series %d: %s %+v", i, s.Name, s.Points)
		}
	}
	for _, want := range []string{"| " + OutboundGuest + " |", "| " + OutboundNetHTTP + " |", "Per-call overhead of the host calls"} {
		if !strings.Contains(sc.Description, want) {
			t.Errorf("description lacks %q:\n%s", want, sc.Description)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, report.ReportFile))
	if err != nil || !bytes.Contains(md, []byte(OutboundScenarioName)) || !bytes.Contains(md, []byte("Per-call overhead")) {
		t.Errorf("report.md lacks the scenario: %v", err)
	}
}
