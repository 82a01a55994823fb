package report

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestScenarioAddAndConfigs(t *testing.T) {
	sc := Scenario{Name: "s", Baseline: "base"}
	sc.Add("wedge", "4", 4, Sample{Throughput: 1})
	sc.Add("base", "1", 1, Sample{Throughput: 2})
	sc.Add("base", "4", 4, Sample{Throughput: 3})
	sc.Add("wedge", "4", 4, Sample{Throughput: 5, P50: 6, P99: 7, P999: 8})
	if len(sc.Series) != 2 {
		t.Fatalf("series %+v", sc.Series)
	}
	w, _ := sc.Lookup("wedge")
	p, _ := w.Lookup("4")
	if !slices.Equal(p.Samples.Throughput, []float64{1, 5}) || !slices.Equal(p.Samples.Of(P999), []float64{0, 8}) {
		t.Errorf("samples %+v", p.Samples)
	}
	if got := sc.Configs(); !slices.Equal(got, []string{"1", "4"}) {
		t.Errorf("configs %v, want the baseline's order", got)
	}
	if _, ok := sc.Lookup("nope"); ok {
		t.Error("found a missing series")
	}
}

func TestScenarioRatios(t *testing.T) {
	sc := fixtureRun().Scenarios[0]
	rs, err := sc.Ratios(Throughput)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("ratios %+v", rs)
	}
	// Medians: wedge 40,100 / fasthttp 51,200 at one connection.
	if r := rs[0]; r.Series != "wedge" || r.Config != "1" || !near(r.Ratio, 40100.0/51200, 1e-12) || !r.Tested || !r.Test.Significant {
		t.Errorf("first ratio %+v", r)
	}
	p99, _ := sc.Ratios(P99)
	if p99[0].Test.Significant {
		t.Errorf("p99 at one connection should not differ significantly: %+v", p99[0])
	}
	if _, err := fixtureRun().Scenarios[1].Ratios(Throughput); !errors.Is(err, ErrNoBaseline) {
		t.Errorf("no baseline: %v", err)
	}
	// A point whose baseline median is zero has no ratio.
	z := Scenario{Baseline: "b"}
	z.Add("b", "1", 1, Sample{})
	z.Add("w", "1", 1, Sample{Throughput: 3})
	zr, _ := z.Ratios(Throughput)
	if len(zr) != 1 || !math.IsNaN(zr[0].Ratio) {
		t.Errorf("zero baseline ratio %+v", zr)
	}
}

func TestMetricNames(t *testing.T) {
	for m, want := range map[Metric]string{Throughput: "throughput req/s true", P50: "p50 µs false", P99: "p99 µs false", P999: "p99.9 µs false"} {
		got := strings.Join([]string{m.String(), m.Unit(), map[bool]string{true: "true", false: "false"}[m.HigherIsBetter()]}, " ")
		if got != want {
			t.Errorf("%d: %q, want %q", m, got, want)
		}
	}
}

func TestParseCPUModel(t *testing.T) {
	x86 := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n"
	arm := "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n\nHardware\t: BCM2835\n"
	if got := parseCPUModel(strings.NewReader(x86)); got != "Intel(R) Xeon(R) CPU @ 2.20GHz" {
		t.Errorf("x86: %q", got)
	}
	if got := parseCPUModel(strings.NewReader(arm)); got != "BCM2835" {
		t.Errorf("arm: %q", got)
	}
	if got := parseCPUModel(strings.NewReader("")); got != "" {
		t.Errorf("empty: %q", got)
	}
}

func TestCollectMachine(t *testing.T) {
	versions := map[string]string{"wedge": "dev"}
	m := CollectMachine(fixedClock(fixtureDate.Add(123*time.Millisecond)), versions)
	versions["wedge"] = "changed"
	if !m.Date.Equal(fixtureDate) || m.Cores < 1 || m.GoVersion == "" || m.OS == "" || m.CPUModel == "" {
		t.Errorf("machine %+v", m)
	}
	if m.Versions["wedge"] != "dev" {
		t.Error("versions map not copied")
	}
	if m := CollectMachine(nil, nil); m.Date.IsZero() {
		t.Error("nil clock gave no date")
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct {
		m    Metric
		v    float64
		want string
	}{
		{Throughput, 1234567.4, "1,234,567"},
		{Throughput, 999, "999"},
		{Throughput, -1234, "-1,234"},
		{P50, 3.14159, "3.14"},
		{P50, 31.4159, "31.4"},
		{P99, 314.159, "314"},
		{P999, 31415.9, "31,416"},
		{P50, math.NaN(), "—"},
	} {
		if got := formatValue(c.m, c.v); got != c.want {
			t.Errorf("formatValue(%v, %v) = %q, want %q", c.m, c.v, got, c.want)
		}
	}
	if got := slug("  Hello, World! (v2) "); got != "hello-world-v2" {
		t.Errorf("slug %q", got)
	}
	stems := chartStems(Run{Scenarios: []Scenario{{Name: "a b"}, {Name: "A-B"}, {Name: "a b 2"}, {Name: "!!"}}})
	if !slices.Equal(stems, []string{"a-b", "a-b-2", "a-b-2-2", "scenario"}) {
		t.Errorf("stems %v", stems)
	}
}
