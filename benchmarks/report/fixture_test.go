package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

var fixtureDate = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// fixtureRun is a small hand-made Run: wedge against a bare fasthttp
// baseline at three connection counts, plus a scenario without baseline.
func fixtureRun() Run {
	hello := Scenario{
		Name:        "Hello world GET",
		Description: "A guest that answers `hello` to every GET.",
		XLabel:      "connections",
		Baseline:    "fasthttp",
	}
	add := func(series string, conns float64, config string, tput, p50, p99, p999 []float64) {
		for i := range tput {
			hello.Add(series, config, conns, Sample{Throughput: tput[i], P50: p50[i], P99: p99[i], P999: p999[i]})
		}
	}
	add("fasthttp", 1, "1",
		[]float64{51000, 52000, 50500, 51500, 51200},
		[]float64{18.1, 18.3, 18.0, 18.2, 18.4},
		[]float64{45, 47, 44, 46, 48},
		[]float64{120, 130, 110, 125, 140})
	add("wedge", 1, "1",
		[]float64{40100, 40500, 39800, 40300, 40000},
		[]float64{24.2, 24.0, 24.5, 24.1, 24.3},
		[]float64{46, 44, 49, 45, 47},
		[]float64{150, 145, 160, 155, 149})
	add("fasthttp", 16, "16",
		[]float64{148000, 151000, 150000, 149500, 150500},
		[]float64{98, 101, 99, 100, 102},
		[]float64{310, 320, 305, 315, 330},
		[]float64{900, 950, 880, 1020, 930})
	add("wedge", 16, "16",
		[]float64{121000, 119500, 120500, 122000, 120000},
		[]float64{125, 128, 126, 130, 127},
		[]float64{390, 400, 385, 410, 395},
		[]float64{1200, 1150, 1300, 1250, 1180})
	add("fasthttp", 64, "64",
		[]float64{160000, 158000, 161000, 159500, 162000},
		[]float64{390, 395, 385, 400, 392},
		[]float64{1100, 1150, 1080, 1200, 1120},
		[]float64{3000, 3200, 2900, 3100, 3050})
	add("wedge", 64, "64",
		[]float64{131000, 129000, 130500, 132000, 128500},
		[]float64{480, 490, 475, 500, 485},
		[]float64{1400, 1450, 1380, 1500, 1420},
		[]float64{4100, 4000, 4300, 4200, 3900})

	cold := Scenario{Name: "Cold start (first request)", XLabel: "modules"}
	for i, v := range []float64{850, 870, 860} {
		cold.Add("wedge", "1", 1, Sample{Throughput: v, P50: 1150 + float64(i), P99: 2300, P999: 2500})
	}

	m := CollectMachine(fixedClock(fixtureDate), map[string]string{"wedge": "0123abc", "fasthttp": "v1.78.0"})
	m.Cores, m.CPUModel, m.GoVersion, m.OS, m.Arch = 2, "Example CPU @ 3.00GHz", "go1.26.8", "linux", "amd64"
	m.Pinning = "server: cpu 0, generator: cpu 1"
	return Run{Title: "Fixture report", Machine: m, Scenarios: []Scenario{hello, cold}}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update if the change is intended)\n--- got ---\n%s", path, got)
	}
}
