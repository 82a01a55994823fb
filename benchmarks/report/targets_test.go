package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func targetScenario() *Scenario {
	sc := &Scenario{Name: "HTTP", XLabel: "connections", Baseline: "fasthttp", Metrics: []Metric{Throughput, P50, P99, P999, Shed}}
	for _, v := range []float64{100000, 90000, 110000} {
		sc.Add("fasthttp", "16", 16, Sample{Throughput: v, P99: 100})
		sc.Add("fasthttp", "64", 64, Sample{Throughput: v, P99: 200})
	}
	for _, v := range []float64{31000, 29000, 30000} {
		sc.Add("wedge-go", "16", 16, Sample{Throughput: v, P99: 900})
	}
	// At 64 connections one run of three shed 0.5% of its answers.
	for i, v := range []float64{20000, 25000, 22000} {
		shed := 0.0
		if i == 1 {
			shed = 0.5
		}
		sc.Add("wedge-go", "64", 64, Sample{Throughput: v, P99: 2500, Shed: shed})
	}
	return sc
}

func TestTargetsEvaluate(t *testing.T) {
	sc := targetScenario()
	sc.Targets = []Target{
		{Goal: "Go vs fasthttp", Source: "issue 15", Series: "wedge-go", Against: "fasthttp", Metric: Throughput, AtLeast: true, Want: 0.3},
		{Goal: "no shed", Series: "wedge-go", Metric: Shed, Want: 0, Configs: []string{"16", "64"}},
		{Goal: "p99", Series: "wedge-go", Against: "fasthttp", Metric: P99, Want: 10, Configs: []string{"64"}},
		{Goal: "absent", Series: "wedge-js", Against: "fasthttp", Metric: Throughput, AtLeast: true, Want: 1, Configs: []string{"16"}},
		// The run measured no 256 connections: no row.
		{Goal: "not in the run", Series: "wedge-go", Against: "fasthttp", Metric: Throughput, AtLeast: true, Want: 1, Configs: []string{"256"}},
	}
	got := sc.Evaluate()
	type row struct {
		goal, config string
		measured     float64
		met          bool
	}
	want := []row{
		{"Go vs fasthttp", "16", 0.3, true}, // 30,000 / 100,000: exactly the bound is met
		{"Go vs fasthttp", "64", 0.22, false},
		{"no shed", "16", 0, true},
		{"no shed", "64", 0.5, false}, // the worst run counts, not the median (0)
		{"p99", "64", 12.5, false},
		{"absent", "16", math.NaN(), false},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		same := g.Measured == w.measured || (math.IsNaN(w.measured) && math.IsNaN(g.Measured)) || math.Abs(g.Measured-w.measured) < 1e-9
		if g.Target.Goal != w.goal || g.Config != w.config || !same || g.Met != w.met {
			t.Errorf("result %d = %s at %s: %v met=%v, want %v met=%v", i, g.Target.Goal, g.Config, g.Measured, g.Met, w.measured, w.met)
		}
	}
}

func TestTargetsRendered(t *testing.T) {
	sc := targetScenario()
	sc.Targets = []Target{
		{Goal: "Go SDK hello vs bare fasthttp", Source: "issue 15", Series: "wedge-go", Against: "fasthttp", Metric: Throughput, AtLeast: true, Want: 0.3},
		{Goal: "no non-2xx", Source: "issue 15", Series: "wedge-go", Metric: Shed, Want: 0, Configs: []string{"64"}},
		{Goal: "JS", Series: "wedge-js", Against: "fasthttp", Metric: Throughput, AtLeast: true, Want: 1, Configs: []string{"16"}},
		// 0.22 rounds to the bound 0.22 but is below 0.2201.
		{Goal: "close", Series: "wedge-go", Against: "fasthttp", Metric: Throughput, AtLeast: true, Want: 0.2201, Configs: []string{"64"}},
		// The worst run shed 0.5%: shown as 0.5%, the bound too.
		{Goal: "shed close", Series: "wedge-go", Metric: Shed, Want: 0.4999, Configs: []string{"64"}},
	}
	var buf bytes.Buffer
	if err := RenderMarkdown(&buf, Run{Scenarios: []Scenario{*sc}}, Options{ChartFormat: ChartNone}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, line := range []string{
		"### Targets",
		"1 of 6 met.",
		"| shed close | — | wedge-go | 64 | ≤ 0.5% | 0.5000% | no |",
		"| close | — | wedge-go | 64 | ≥ 0.22× fasthttp | 0.2200× fasthttp | no |",
		"| Go SDK hello vs bare fasthttp | issue 15 | wedge-go | 16 | ≥ 0.30× fasthttp | 0.30× fasthttp | yes |",
		"| Go SDK hello vs bare fasthttp | issue 15 | wedge-go | 64 | ≥ 0.30× fasthttp | 0.22× fasthttp | no |",
		"| no non-2xx | issue 15 | wedge-go | 64 | ≤ 0% | 0.5% | no |",
		"| JS | — | wedge-js | 16 | ≥ 1.00× fasthttp | not measured | — |",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("report lacks %q:\n%s", line, out)
		}
	}

	// Targets travel in results.json, so a report rendered again from it
	// (or compared) still has them.
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	var back Scenario
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Targets) != 5 || back.Targets[1].Metric != Shed || back.Targets[0].Want != 0.3 || !back.Targets[0].AtLeast {
		t.Fatalf("targets after a JSON round trip: %+v", back.Targets)
	}
}

func TestNoTargetsNoSection(t *testing.T) {
	sc := targetScenario()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeTargets(w, sc)
	sc.Targets = []Target{{Goal: "x", Series: "nothing", Metric: Throughput, AtLeast: true, Want: 1}}
	writeTargets(w, sc)
	w.Flush()
	if buf.Len() != 0 {
		t.Fatalf("a section without measured targets: %q", buf.String())
	}
}
