package suite

import (
	"testing"

	"github.com/wedge-run/wedge/benchmarks/report"
)

// Every series a target names is one the HTTP scenario can measure, and
// a run keeps only the targets of what it measured.
func TestHTTPTargets(t *testing.T) {
	ts := httpTargets()
	for _, tg := range ts {
		if !containsString(AllSeries, tg.Series) || (tg.Against != "" && !containsString(AllSeries, tg.Against)) {
			t.Errorf("target %+v names a series the scenario does not have", tg)
		}
		if tg.Goal == "" || tg.Source == "" {
			t.Errorf("target %+v without a goal or source", tg)
		}
	}
	sc := report.Scenario{Name: HTTPScenarioName}
	sc.Add(SeriesFasthttp, "16", 16, report.Sample{Throughput: 1})
	sc.Add(SeriesWedgeGo, "16", 16, report.Sample{Throughput: 1})
	kept := targetsFor(sc, ts)
	if len(kept) == 0 {
		t.Fatal("no target kept for wedge-go against fasthttp")
	}
	for _, tg := range kept {
		if tg.Series != SeriesWedgeGo || (tg.Against != "" && tg.Against != SeriesFasthttp) {
			t.Errorf("kept %+v: a series the run did not measure", tg)
		}
	}
	if len(ts) != len(httpTargets()) {
		t.Error("targetsFor changed the list it was given")
	}
}
