package report

import (
	"bytes"
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
