package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRenderMarkdownGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderMarkdown(&buf, fixtureRun(), Options{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.md", buf.Bytes())

	// Deterministic: a second rendering is byte-identical.
	var again bytes.Buffer
	if err := RenderMarkdown(&again, fixtureRun(), Options{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two renderings of the same run differ")
	}
}

func TestRenderMarkdownOptions(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderMarkdown(&buf, fixtureRun(), Options{ChartFormat: ChartNone, RatioMetrics: []Metric{P50}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "![") {
		t.Error("charts referenced with ChartNone")
	}
	if !strings.Contains(out, "| p50 vs fasthttp |") || strings.Contains(out, "Throughput vs fasthttp") {
		t.Errorf("ratio columns not as requested:\n%s", out)
	}
	if err := RenderMarkdown(&buf, fixtureRun(), Options{ChartFormat: "gif"}); err == nil {
		t.Error("unknown chart format accepted")
	}
}

func TestCompareGolden(t *testing.T) {
	old := fixtureRun()
	newer := fixtureRun()
	newer.Title = "Fixture report, later"
	// wedge got faster at 64 connections; everything else is reshuffled
	// noise of the same values.
	sc := &newer.Scenarios[0]
	s, _ := sc.Lookup("wedge")
	p, _ := s.Lookup("64")
	for i := range p.Samples.Throughput {
		p.Samples.Throughput[i] *= 1.1
	}
	p16, _ := s.Lookup("16")
	p16.Samples.P99 = []float64{395, 390, 400, 385, 410}
	// A config only the new run has and one only the old run has.
	sc.Add("wedge", "256", 256, Sample{Throughput: 125000, P50: 2000, P99: 5000, P999: 9000})
	old.Scenarios[1].Add("wedge", "2", 2, Sample{Throughput: 800, P50: 1300, P99: 2500, P999: 2700})

	var buf bytes.Buffer
	if err := RenderComparison(&buf, old, newer); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.golden.md", buf.Bytes())

	byKey := map[string]Delta{}
	for _, d := range Compare(old, newer) {
		byKey[d.Scenario+"/"+d.Series+"/"+d.Config+"/"+d.Metric.String()] = d
	}
	up := byKey["Hello world GET/wedge/64/throughput"]
	if !up.Tested || !up.Test.Significant || !near(up.Change, 0.10, 1e-9) {
		t.Errorf("wedge@64 throughput: %+v, want +10%% significant", up)
	}
	same := byKey["Hello world GET/wedge/16/p99"]
	if !same.Tested || same.Test.Significant || same.Change != 0 {
		t.Errorf("wedge@16 p99 reshuffled: %+v, want no significant change", same)
	}
	if only := byKey["Hello world GET/wedge/256/throughput"]; only.Old.N != 0 || only.New.N != 1 || only.Tested {
		t.Errorf("new-only row: %+v", only)
	}
}

// TestShedColumn: a scenario measuring the non-2xx share shows it beside
// the (2xx) percentiles, as a median with the worst run, and keeps it
// through results.json.
func TestShedColumn(t *testing.T) {
	sc := Scenario{Name: "HTTP", XLabel: "connections", Baseline: "base",
		Metrics: []Metric{Throughput, P50, P99, P999, Shed}}
	for i, shed := range []float64{0, 10, 20} {
		sc.Add("base", "64", 64, Sample{Throughput: 1000 + float64(i), P50: 50, P99: 90, P999: 100})
		sc.Add("go", "64", 64, Sample{Throughput: 300 + float64(i), P50: 70, P99: 400, P999: 900, Shed: shed})
	}
	run := Run{Title: "t", Scenarios: []Scenario{sc}}
	var buf bytes.Buffer
	if err := RenderMarkdown(&buf, run, Options{ChartFormat: ChartNone}); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{"| Non-2xx |", "| 10.0% (max 20.0%) |", "| 0% |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	raw, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if m := back.Scenarios[0].Measured(); len(m) != 5 || m[4] != Shed {
		t.Fatalf("metrics after a round trip: %v", m)
	}
	if s, _ := back.Scenarios[0].Lookup("go"); len(s.Points[0].Samples.Shed) != 3 {
		t.Fatalf("shed samples after a round trip: %+v", s.Points[0].Samples)
	}
}
