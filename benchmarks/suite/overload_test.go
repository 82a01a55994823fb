package suite

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/internal/testutil"
)

func TestOverloadAndEventsPlans(t *testing.T) {
	count := func(p Plan) (overload, events int) {
		env := newEnv(Options{NoPin: true, WedgeBinary: "w"}, p, t.TempDir())
		ol, _ := (&overloadScenario{}).Plan(env)
		es, _ := (&eventsScenario{}).Plan(env)
		return len(ol), len(es)
	}
	// 4 cases × (start, capacity, one per multiple, stop) + fairness
	// (start, alone, flooded, stop); start + 3 triggers + bulk + stop.
	if o, e := count(QuickPlan()); o != 4*(3+2)+4 || e != 6 {
		t.Errorf("quick: %d overload, %d events steps", o, e)
	}
	if o, e := count(FullPlan()); o != 4*(3+5)+4 || e != 6 {
		t.Errorf("full: %d overload, %d events steps", o, e)
	}
	// The quick profile stays short: the overload windows of 4 cases and
	// the fairness part, and the events one at a time (a few ms each).
	q := QuickPlan()
	window := q.OverloadWarmup + q.OverloadDuration
	overload := 4*(window+time.Duration(len(q.OverloadMultiples))*q.OverloadDuration) + 2*window
	if overload > 10*time.Second || q.EventTrials > 100 || q.EventBulk > 2000 {
		t.Errorf("quick overload measures for %v, events %d + %d", overload, q.EventTrials, q.EventBulk)
	}
	env := newEnv(Options{Target: "http://127.0.0.1:1", NoPin: true}, q, t.TempDir())
	if ol, _ := (&overloadScenario{}).Plan(env); len(ol) != 0 {
		t.Errorf("overload planned %d steps for a --target run", len(ol))
	}
	if es, _ := (&eventsScenario{}).Plan(env); len(es) != 0 {
		t.Errorf("events planned %d steps for a --target run", len(es))
	}
	bad := q
	bad.OverloadMultiples = []float64{0}
	if err := bad.validate(); err == nil {
		t.Error("a 0x overload multiple is accepted")
	}
}

// TestOverloadAndEventsEndToEnd runs the two scenarios for real with a
// tiny plan: nodes of the built wedge binary under open-loop overload and
// beside a flood, and events on a node in process; then checks the
// report holds every part.
func TestOverloadAndEventsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wedge and starts nodes")
	}
	wedge, _ := buildBinaries(t)
	out := filepath.Join(t.TempDir(), "report")
	plan := Plan{Profile: "e2e", OverloadMultiples: []float64{2}, OverloadWarmup: 50 * time.Millisecond,
		OverloadDuration: 200 * time.Millisecond, EventTrials: 5, EventBulk: 50}
	var progress bytes.Buffer
	run, err := Run(t.Context(), Options{Plan: &plan, WedgeBinary: wedge, Scenarios: []string{"overload", "events"},
		OutDir: out, Progress: &progress, PeersDir: t.TempDir(), SourceDir: testutil.RepoRoot(t)})
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Scenarios) != 3 {
		t.Fatalf("%d report scenarios, want overload, fairness and events", len(run.Scenarios))
	}
	o, f, e := run.Scenarios[0], run.Scenarios[1], run.Scenarios[2]
	if o.Name != OverloadScenarioName || len(o.Series) != 4 {
		t.Fatalf("overload scenario %q with %d series", o.Name, len(o.Series))
	}
	for _, want := range []string{"| fast | fixed |", "| cpu-heavy | adaptive |", "| 2x |"} {
		if !strings.Contains(o.Description, want) {
			t.Errorf("overload table lacks %q:\n%s", want, o.Description)
		}
	}
	if f.Name != FairnessScenarioName || len(f.Series) != 2 || !strings.Contains(f.Description, "the slow function served") {
		t.Errorf("fairness scenario %+v", f)
	}
	if e.Name != EventsScenarioName || len(e.Series) != 3 || !strings.Contains(e.Description, "50 delivered") {
		t.Errorf("events scenario %+v", e)
	}
	for _, s := range e.Series {
		if p, ok := s.Lookup("1"); !ok || p.Samples.P50[0] <= 0 || p.Samples.P99[0] < p.Samples.P50[0] {
			t.Errorf("events %s: %+v", s.Name, s.Points)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, report.ReportFile))
	if err != nil || !bytes.Contains(md, []byte("# "+OverloadScenarioName)) && !bytes.Contains(md, []byte(OverloadScenarioName)) {
		t.Errorf("report.md: %v", err)
	}
}
