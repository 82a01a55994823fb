package suite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProfiles(t *testing.T) {
	q, err := Options{Quick: true, WedgeBinary: "w"}.plan()
	if err != nil {
		t.Fatal(err)
	}
	f, err := Options{WedgeBinary: "w"}.plan()
	if err != nil {
		t.Fatal(err)
	}
	if q.Profile != "quick" || !slices.Equal(q.Connections, []int{16, 64}) || q.Repetitions != 3 ||
		!slices.Equal(q.FunctionCounts, []int{1, 100, 1000}) {
		t.Errorf("quick plan %+v", q)
	}
	if f.Profile != "full" || !slices.Equal(f.Connections, []int{1, 16, 64, 256}) || f.Repetitions != 5 ||
		!slices.Equal(f.FunctionCounts, []int{1, 100, 1000, 10000}) {
		t.Errorf("full plan %+v", f)
	}
	// The quick profile must fit a CI smoke run: its measurement windows
	// for six HTTP servers, two guests and three function counts stay
	// well under a minute.
	windows := time.Duration(len(q.Connections)*q.Repetitions*6)*(q.Warmup+q.Duration) +
		time.Duration(2*q.MicroRepetitions)*q.MicroDuration*4/3 +
		time.Duration(len(q.FunctionCounts)*q.ScaleRepetitions)*(q.ScaleWarmup+q.ScaleDuration)
	if windows > 30*time.Second {
		t.Errorf("quick plan measures for %v", windows)
	}
	custom := Plan{Profile: "mine", Connections: []int{2}, Repetitions: 1, Duration: time.Millisecond}
	p, err := Options{Quick: true, Plan: &custom, WedgeBinary: "w"}.plan()
	if err != nil || p.Profile != "mine" {
		t.Errorf("custom plan: %+v, %v", p, err)
	}
}

func TestPlanValidation(t *testing.T) {
	for _, p := range []Plan{
		{Connections: []int{0}, Repetitions: 1, Duration: time.Second},
		{Connections: []int{2000}, Repetitions: 1, Duration: time.Second},
		{Connections: []int{1}, Repetitions: 0, Duration: time.Second},
		{Connections: []int{1}, Repetitions: 1},
		{MicroRepetitions: 1},
		{FunctionCounts: []int{10}, ScaleRepetitions: 1, ScaleDuration: time.Second},
		{FunctionCounts: []int{0}, ScaleRepetitions: 1, ScaleDuration: time.Second, ScaleConnections: 1},
	} {
		if _, err := (Options{Plan: &p, WedgeBinary: "w"}).plan(); !errors.Is(err, ErrOptions) {
			t.Errorf("plan %+v accepted", p)
		}
	}
	for _, o := range []Options{{}, {Target: "http://127.0.0.1:1"}} {
		if err := o.validate(); !errors.Is(err, ErrOptions) {
			t.Errorf("options %+v accepted", o)
		}
	}
	if err := (Options{Target: "http://127.0.0.1:1", TargetAdmin: "http://127.0.0.1:2", TargetToken: "t"}).validate(); err != nil {
		t.Error(err)
	}
}

// fakeGroup is a server group that starts nothing.
func fakeGroup(name string, series ...string) *serverGroup {
	return &serverGroup{
		name: name, series: series, estimate: time.Second,
		start: func(context.Context) (map[string]string, map[string]error) {
			urls := map[string]string{}
			for _, s := range series {
				urls[s] = "http://127.0.0.1:1/" + s
			}
			return urls, nil
		},
		stop: func() error { return nil },
	}
}

func TestHTTPPlanInterleavesServers(t *testing.T) {
	plan := Plan{Profile: "t", Connections: []int{1, 16}, Repetitions: 2, Warmup: time.Second, Duration: 2 * time.Second}
	env := newEnv(Options{NoPin: true}, plan, t.TempDir())
	s := &httpScenario{groups: []*serverGroup{fakeGroup("node", "wedge-wat", "wedge-go"), fakeGroup("fasthttp", "fasthttp")}}
	steps, err := s.Plan(env)
	if err != nil {
		t.Fatal(err)
	}
	var whats []string
	for _, st := range steps {
		whats = append(whats, st.What)
		if st.Scenario != HTTPScenarioName {
			t.Errorf("step %q belongs to %q", st.What, st.Scenario)
		}
	}
	want := []string{
		"start node", "start fasthttp",
		// round 1: 1 connection, then 16, the server order rotating
		"wedge-wat, 1 connection, run 1/2", "wedge-go, 1 connection, run 1/2", "fasthttp, 1 connection, run 1/2",
		"wedge-go, 16 connections, run 1/2", "fasthttp, 16 connections, run 1/2", "wedge-wat, 16 connections, run 1/2",
		"fasthttp, 1 connection, run 2/2", "wedge-wat, 1 connection, run 2/2", "wedge-go, 1 connection, run 2/2",
		"wedge-wat, 16 connections, run 2/2", "wedge-go, 16 connections, run 2/2", "fasthttp, 16 connections, run 2/2",
		"stop node", "stop fasthttp",
	}
	if !slices.Equal(whats, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(whats, "\n"), strings.Join(want, "\n"))
	}
	if est := steps[2].Estimate; est < 3*time.Second || est > 4*time.Second {
		t.Errorf("measurement estimate %v, want warmup + duration + a little", est)
	}
}

func TestQuickAndFullStepCounts(t *testing.T) {
	count := func(p Plan) (http, micro, scale int) {
		env := newEnv(Options{NoPin: true, SkipGoHello: true, WedgeBinary: "w", Servers: []string{SeriesWedgeWAT, SeriesFasthttp}}, p, t.TempDir())
		h := &httpScenario{groups: []*serverGroup{fakeGroup("a", "wedge-wat"), fakeGroup("b", "fasthttp")}}
		hs, _ := h.Plan(env)
		ms, _ := (&microScenario{}).Plan(env)
		ss, _ := (&scaleScenario{}).Plan(env)
		return len(hs), len(ms), len(ss)
	}
	h, m, s := count(QuickPlan())
	// 2 starts + 2 connection counts × 3 runs × 2 servers + 2 stops;
	// setup + 3 runs × 1 guest + close; 3 counts × (deploy, restart, 1 run, stop).
	if h != 2+12+2 || m != 1+3+1 || s != 3*4 {
		t.Errorf("quick: %d HTTP, %d in-process, %d scaling steps", h, m, s)
	}
	h, m, s = count(FullPlan())
	if h != 2+40+2 || m != 1+5+1 || s != 4*(3+3) {
		t.Errorf("full: %d HTTP, %d in-process, %d scaling steps", h, m, s)
	}
}

func TestScaleSkippedForTarget(t *testing.T) {
	env := newEnv(Options{Target: "http://127.0.0.1:1", NoPin: true}, QuickPlan(), t.TempDir())
	steps, err := (&scaleScenario{}).Plan(env)
	if err != nil || len(steps) != 0 {
		t.Fatalf("steps %d, %v", len(steps), err)
	}
	if n := env.notesFor(ScaleScenarioName); len(n) != 1 || !strings.Contains(n[0], "--target") {
		t.Errorf("notes %q", n)
	}
}

func TestSelectScenarios(t *testing.T) {
	all := Scenarios()
	if ids := IDs(); !slices.Equal(ids[:3], []string{"http", "invoke", "functions"}) {
		t.Errorf("ids %v", ids)
	}
	got, err := selectScenarios(all, []string{"functions", "http"})
	if err != nil || len(got) != 2 || got[0].ID() != "http" || got[1].ID() != "functions" {
		t.Errorf("selected %v, %v", got, err)
	}
	if _, err := selectScenarios(all, []string{"nope"}); !errors.Is(err, ErrOptions) {
		t.Errorf("unknown scenario: %v", err)
	}
}

// keepRegistry restores the scenario registry when t ends, so that a
// test may Register fakes; it returns the registry as it was.
func keepRegistry(t *testing.T) []Factory {
	t.Helper()
	registryMu.Lock()
	saved := slices.Clone(registry)
	registryMu.Unlock()
	t.Cleanup(func() {
		registryMu.Lock()
		registry = saved
		registryMu.Unlock()
	})
	return saved
}

func TestRegister(t *testing.T) {
	saved := keepRegistry(t)
	Register(func() Scenario { return &fakeScenario{id: "kv"} })
	if ids := IDs(); ids[len(ids)-1] != "kv" || len(ids) != len(saved)+1 {
		t.Errorf("ids %v", ids)
	}
}

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c"}
	for k, want := range []string{"abc", "bca", "cab", "abc"} {
		if got := strings.Join(rotate(xs, k), ""); got != want {
			t.Errorf("rotate %d = %s, want %s", k, got, want)
		}
	}
	if fmt.Sprint(xs) != "[a b c]" {
		t.Error("rotate changed its input")
	}
}
