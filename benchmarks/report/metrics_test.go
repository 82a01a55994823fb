package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScenarioOfTimesOnly: a scenario that measures latencies only (how
// long a change takes to spread) shows no throughput column, charts its
// p50, survives results.json, and compares only what it measured; one
// of volumes shows its own unit.
func TestScenarioOfTimesOnly(t *testing.T) {
	times := Scenario{Name: "Cluster propagation", XLabel: "nodes", Metrics: []Metric{P50, P99}}
	times.Add("deploy", "5", 5, Sample{P50: 48000, P99: 99000})
	times.Add("deploy", "5", 5, Sample{P50: 52000, P99: 101000})
	volume := Scenario{Name: "Gossip traffic", XLabel: "load", Metrics: []Metric{Throughput}, Unit: "B/s"}
	volume.Add("per node", "idle", 0, Sample{Throughput: 1234})
	run := Run{Title: "t", Scenarios: []Scenario{times, volume}}

	var md bytes.Buffer
	if err := RenderMarkdown(&md, run, Options{}); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	timesPart := out[strings.Index(out, "## Cluster propagation"):strings.Index(out, "## Gossip traffic")]
	if strings.Contains(timesPart, "Throughput") || !strings.Contains(timesPart, "| deploy | 5 | 2 | 50,000 ±4% | 100,000 ±1% |") {
		t.Errorf("times-only table:\n%s", timesPart)
	}
	if !strings.Contains(timesPart, "-p50.svg)") {
		t.Errorf("times-only chart should be the p50 one:\n%s", timesPart)
	}
	volumePart := out[strings.Index(out, "## Gossip traffic"):]
	if !strings.Contains(volumePart, "Throughput (B/s)") || strings.Contains(volumePart, "p99") || !strings.Contains(volumePart, "| per node | idle | 1 | 1,234 |") {
		t.Errorf("volume table:\n%s", volumePart)
	}

	dir := t.TempDir()
	files, err := WriteReport(dir, run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(files, " ")
	if !strings.Contains(joined, "-p50.svg") || !strings.Contains(joined, "-throughput.svg") {
		t.Errorf("charts written: %v", files)
	}
	b, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"metrics": [`)) || !bytes.Contains(b, []byte(`"p50"`)) {
		t.Errorf("results.json does not name the metrics:\n%s", b)
	}
	var back Run
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Scenarios[0].Measured(); len(got) != 2 || got[0] != P50 || got[1] != P99 {
		t.Errorf("metrics after a round trip: %v", got)
	}
	for _, d := range Compare(run, back) {
		if d.Scenario == times.Name && d.Metric == Throughput {
			t.Errorf("compared an unmeasured metric: %+v", d)
		}
	}
}
