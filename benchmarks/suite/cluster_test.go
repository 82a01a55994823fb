package suite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSimulation(t *testing.T) {
	out := `goos: linux
BenchmarkSimulation/nodes=10-2         	       5	  95000000 ns/op	        90.1 kv-max-ms	        80.5 kv-p50-ms	        88.0 kv-p99-ms	       120.0 max-ms	        85.2 p50-ms	       110.4 p99-ms
--- BENCH: BenchmarkSimulation/nodes=10-2
    bench_test.go:214: 10 nodes started and joined in 20ms
BenchmarkSimulation/nodes=100         	       5	 372658528 ns/op	       199.3 kv-max-ms	       172.8 kv-p50-ms	       190.0 kv-p99-ms	       566.5 max-ms	       173.4 p50-ms	       213.0 p99-ms
PASS`
	rows := parseSimulation(out)
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	if r := rows[0]; r.nodes != 10 || r.p50 != 85.2 || r.p99 != 110.4 || r.max != 120 || r.kvP50 != 80.5 || r.kvP99 != 88 || r.kvMax != 90.1 {
		t.Errorf("row 0 %+v", r)
	}
	if r := rows[1]; r.nodes != 100 || r.p50 != 173.4 || r.kvMax != 199.3 {
		t.Errorf("row 1 %+v", r)
	}
}

// TestClusterEndToEnd runs the cluster scenario for real with a tiny
// plan: three `wedge serve` processes, a few trials, short traffic
// windows, one crash.
func TestClusterEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wedge and starts a cluster")
	}
	wedge, _ := buildBinaries(t)
	plan := Plan{Profile: "cluster-e2e", ClusterNodes: 3, ClusterTrials: 3, ClusterTrafficWindow: 300 * time.Millisecond,
		ClusterWriteRate: 200, ClusterFailureTrials: 1}
	run, err := Run(t.Context(), Options{Plan: &plan, WedgeBinary: wedge, Scenarios: []string{"cluster"},
		OutDir: filepath.Join(t.TempDir(), "report"), NoPin: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Scenarios) != 2 || run.Scenarios[0].Name != ClusterScenarioName || run.Scenarios[1].Name != ClusterTrafficName {
		t.Fatalf("scenarios %+v", run.Scenarios)
	}
	prop := run.Scenarios[0]
	for _, name := range []string{SeriesDeploy, SeriesKVSmall, SeriesKVLarge, SeriesDetection, SeriesRejoin} {
		s, ok := prop.Lookup(name)
		if !ok || len(s.Points) != 1 || s.Points[0].Config != "3" {
			t.Fatalf("series %s: %+v", name, s)
		}
		smp := s.Points[0].Samples
		if smp.P50[0] <= 0 || smp.P99[0] < smp.P50[0] || smp.P999[0] < smp.P99[0] {
			t.Errorf("series %s: %+v", name, smp)
		}
	}
	traffic := run.Scenarios[1]
	for _, name := range []string{SeriesSent, SeriesReceived} {
		s, ok := traffic.Lookup(name)
		if !ok || len(s.Points) != 2 {
			t.Fatalf("series %s: %+v", name, s)
		}
		for _, p := range s.Points {
			if len(p.Samples.Throughput) != 3 || p.Samples.Throughput[0] <= 0 {
				t.Errorf("series %s at %s: %+v (want one positive sample per node)", name, p.Config, p.Samples.Throughput)
			}
		}
	}
	if !strings.Contains(traffic.Description, "writes/s were acknowledged") {
		t.Errorf("description: %s", traffic.Description)
	}
}
