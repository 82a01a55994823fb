package suite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/benchmarks/loadgen"
	"github.com/wedge-run/wedge/benchmarks/report"
)

// fakeScenario has one step that records a fixed sample or fails.
type fakeScenario struct {
	id   string
	fail error
	sc   report.Scenario
}

func (f *fakeScenario) ID() string { return f.id }

func (f *fakeScenario) Plan(env *Env) ([]Step, error) {
	f.sc = report.Scenario{Name: "Fake " + f.id, XLabel: "things"}
	return []Step{{Scenario: f.sc.Name, What: "fake work", Estimate: time.Second,
		Run: func(context.Context) (string, error) {
			if f.fail != nil {
				return "", f.fail
			}
			f.sc.Add("x", "1", 1, report.Sample{Throughput: 10, P50: 1, P99: 2, P999: 3})
			return "ok", nil
		}}}, nil
}

func (f *fakeScenario) Results() []report.Scenario { return []report.Scenario{f.sc} }

// fakeMeasure answers every measurement with throughput derived from the
// URL (so every series has its own level) and records the call order.
type fakeMeasure struct {
	mu    sync.Mutex
	calls []string
	level map[string]float64
}

func (f *fakeMeasure) run(ctx context.Context, cfg loadgen.Config) (loadgen.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, cfg.URL)
	series := cfg.URL[strings.LastIndex(cfg.URL, "/")+1:]
	level := f.level[series] * float64(len(f.calls)%3+10) / 10 // a little noise
	res := loadgen.Result{URL: cfg.URL, Connections: cfg.Connections, Duration: cfg.Duration,
		StatusCodes: map[int]int64{200: int64(level)}, Errors: map[string]int64{},
		SuccessThroughput: level / cfg.Duration.Seconds(),
		Latency:           loadgen.LatencySummary{P50: 100 / level * 1000, P99: 300 / level * 1000, P999: 500 / level * 1000}}
	if series == "net" {
		// net/http sheds a few requests in this fake world.
		res.StatusCodes[503] = 7
		res.Errors[loadgen.ErrKindTimeout] = 1
	}
	res.Responses = res.StatusCodes[200] + res.StatusCodes[503]
	res.Requests = res.Responses + res.ErrorCount()
	return res, nil
}

func TestSessionAssemblesReport(t *testing.T) {
	plan := Plan{Profile: "test", Connections: []int{16, 64}, Repetitions: 3, Warmup: time.Millisecond, Duration: time.Second}
	clock := &fakeClock{t: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)}
	var progress bytes.Buffer
	env := newEnv(Options{NoPin: true, Progress: &progress, Clock: clock}, plan, t.TempDir())
	env.pin()
	fm := &fakeMeasure{level: map[string]float64{"fasthttp": 50000, "wedge-wat": 40000, "net": 45000}}
	env.measure = fm.run

	broken := fakeGroup("workerd", SeriesWorkerdJS)
	broken.start = func(context.Context) (map[string]string, map[string]error) {
		return nil, map[string]error{SeriesWorkerdJS: errors.New("workerd exploded")}
	}
	net := fakeGroup("net/http baseline", SeriesNetHTTP)
	net.start = func(context.Context) (map[string]string, map[string]error) {
		return map[string]string{SeriesNetHTTP: "http://127.0.0.1:1/net"}, nil
	}
	stopped := 0
	groups := []*serverGroup{fakeGroup("fasthttp baseline", SeriesFasthttp), fakeGroup("wedge node", SeriesWedgeWAT), net, broken}
	for _, g := range groups {
		g.stop = func() error { stopped++; return nil }
	}
	scenarios := []Scenario{
		&httpScenario{groups: groups},
		&fakeScenario{id: "ok"},
		&fakeScenario{id: "broken", fail: errors.New("disk on fire")},
	}
	run, err := session(t.Context(), env, scenarios)
	// Both failures fail the session, after everything else was measured.
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "workerd-js not measured: workerd exploded") ||
		!strings.Contains(err.Error(), "Fake broken: fake work: disk on fire") {
		t.Fatalf("session error %v, want ErrFailed naming both failures", err)
	}
	if stopped != 4 {
		t.Errorf("%d groups stopped, want 4", stopped)
	}
	if len(fm.calls) != 2*3*3 {
		t.Errorf("%d measurements, want 18 (2 connection counts × 3 runs × 3 working servers)", len(fm.calls))
	}
	if run.Title != "wedge benchmark suite (test)" || run.Machine.Pinning != "unpinned (pinning turned off)" ||
		!run.Machine.Date.Equal(clock.t) || run.Machine.Cores == 0 {
		t.Errorf("run header: %q %+v", run.Title, run.Machine)
	}
	if len(run.Scenarios) != 3 {
		t.Fatalf("%d scenarios", len(run.Scenarios))
	}
	h := run.Scenarios[0]
	if h.Name != HTTPScenarioName || h.Baseline != SeriesFasthttp || h.XLabel != "connections" {
		t.Errorf("HTTP scenario header %q %q %q", h.Name, h.Baseline, h.XLabel)
	}
	var names []string
	for _, s := range h.Series {
		names = append(names, s.Name)
		for _, p := range s.Points {
			if len(p.Samples.Throughput) != 3 || len(p.Samples.P999) != 3 {
				t.Errorf("%s/%s: %d samples", s.Name, p.Config, len(p.Samples.Throughput))
			}
		}
		if len(s.Points) != 2 || s.Points[0].Config != "16" || s.Points[1].X != 64 {
			t.Errorf("%s points %+v", s.Name, s.Points)
		}
	}
	// Report order, not start or measurement order.
	if strings.Join(names, ",") != "wedge-wat,fasthttp,net/http" {
		t.Errorf("series %v", names)
	}
	for _, want := range []string{
		"workerd-js not measured: workerd exploded",
		"net/http, 16 connections: 24 of 139,524 requests failed (21× HTTP 503, 3× timeout), in 3 of 3 runs",
	} {
		if !strings.Contains(h.Description, want) {
			t.Errorf("HTTP description lacks %q:\n%s", want, h.Description)
		}
	}
	rs, err := h.Ratios(report.Throughput)
	if err != nil || len(rs) != 4 {
		t.Fatalf("ratios %v, %v", rs, err)
	}
	if r := rs[0]; r.Series != SeriesWedgeWAT || r.Ratio < 0.7 || r.Ratio > 0.9 {
		t.Errorf("wedge-wat ratio %+v, want about 0.8", r)
	}
	if s := run.Scenarios[1]; s.Name != "Fake ok" || len(s.Series) != 1 || strings.Contains(s.Description, "Notes") {
		t.Errorf("ok scenario %+v", s)
	}
	// A scenario without samples is kept because its notes say why.
	if s := run.Scenarios[2]; len(s.Series) != 0 || !strings.Contains(s.Description, "- fake work: disk on fire") {
		t.Errorf("broken scenario %+v", s)
	}
	text := progress.String()
	for _, want := range []string{"wedge benchmark suite (test): 34 steps", "pinning: unpinned", "[ 2/34] HTTP hello: start wedge node",
		"failed: workerd: nothing started", "failed: disk on fire"} {
		if !strings.Contains(text, want) {
			t.Errorf("progress lacks %q:\n%s", want, text)
		}
	}
	// The whole thing renders.
	var md bytes.Buffer
	if err := report.RenderMarkdown(&md, run, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| wedge-wat | 16 | 3 |") {
		t.Errorf("report:\n%s", md.String())
	}
}

func TestSessionStopsWhenCancelled(t *testing.T) {
	plan := Plan{Profile: "test", Connections: []int{1}, Repetitions: 5, Duration: time.Second}
	env := newEnv(Options{NoPin: true}, plan, t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	env.measure = func(ctx context.Context, cfg loadgen.Config) (loadgen.Result, error) {
		n++
		if n == 2 {
			cancel()
			return loadgen.Result{}, ctx.Err()
		}
		return loadgen.Result{SuccessThroughput: 1000, StatusCodes: map[int]int64{200: 1000}, Requests: 1000, Responses: 1000}, nil
	}
	run, err := session(ctx, env, []Scenario{&httpScenario{groups: []*serverGroup{fakeGroup("f", "fasthttp")}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if n != 2 || !strings.HasSuffix(run.Title, "interrupted") || len(run.Scenarios) != 1 ||
		len(run.Scenarios[0].Series[0].Points[0].Samples.Throughput) != 1 {
		t.Errorf("measurements %d, run %+v", n, run)
	}
}

// TestRunFailsAfterWritingReport: a session in which a step failed writes
// its report, with the failure in the notes, and then returns ErrFailed,
// which makes `wedge bench` exit non-zero (a CI smoke run fails). A
// session without failures returns nil.
func TestRunFailsAfterWritingReport(t *testing.T) {
	keepRegistry(t)
	Register(func() Scenario { return &fakeScenario{id: "fine"} })
	Register(func() Scenario { return &fakeScenario{id: "broken", fail: errors.New("disk on fire")} })
	run := func(only ...string) (string, error) {
		out := filepath.Join(t.TempDir(), "report")
		// A --target session starts nothing: only the fake scenarios run.
		_, err := Run(t.Context(), Options{
			Plan: &Plan{Profile: "test"}, Target: "http://127.0.0.1:1", TargetAdmin: "http://127.0.0.1:1", TargetToken: "t",
			Scenarios: only, OutDir: out, NoPin: true, SourceDir: t.TempDir(),
		})
		md, rerr := os.ReadFile(filepath.Join(out, report.ReportFile))
		if rerr != nil {
			t.Fatalf("no report written: %v (run: %v)", rerr, err)
		}
		return string(md), err
	}
	if _, err := run("fine"); err != nil {
		t.Fatalf("a session without failures: %v", err)
	}
	md, err := run("fine", "broken")
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("a session with a failed step returned %v, want ErrFailed", err)
	}
	if !strings.Contains(md, "fake work: disk on fire") || !strings.Contains(md, "Fake fine") {
		t.Errorf("the report does not hold both scenarios and the failure:\n%s", md)
	}
}
