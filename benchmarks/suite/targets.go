package suite

import (
	"slices"

	"github.com/wedge-run/wedge/benchmarks/report"
)

// The HTTP scenario's targets: what issues 15 (speed of real guests) and
// 17 (JavaScript) ask of wedge against bare fasthttp and workerd, on one
// server core with the generator on the other. The report checks every
// run against them (report.Target), so a run says where wedge stands
// rather than leaving the reader to work it out from the ratios.
const (
	sourceSpeed = "issue 15"
	sourceJS    = "issue 17"
)

// wedgeTargetSeries are the wedge series held to "at least 2× workerd's
// JS hello": every way a function author writes a function. The traced
// series measures the cost of tracing, not a kind of function, and is
// left out.
var wedgeTargetSeries = []string{SeriesWedgeWAT, SeriesWedgeWASI, SeriesWedgeGo, SeriesWedgeJS, SeriesWedgeC, SeriesWedgeRust, SeriesWedgeAS}

// httpTargets lists the targets, in the order the report shows them.
func httpTargets() []report.Target {
	vsFasthttp := func(goal, series string, want float64, configs ...string) report.Target {
		return report.Target{Goal: goal, Source: sourceSpeed, Series: series, Against: SeriesFasthttp,
			Metric: report.Throughput, AtLeast: true, Want: want, Configs: configs}
	}
	p99 := func(goal, series string, want float64) report.Target {
		return report.Target{Goal: goal, Source: sourceSpeed, Series: series, Against: SeriesFasthttp,
			Metric: report.P99, Want: want, Configs: []string{"64"}}
	}
	noShed := func(goal, source, series string) report.Target {
		return report.Target{Goal: goal, Source: source, Series: series, Metric: report.Shed, Configs: []string{"64"}}
	}
	ts := []report.Target{
		vsFasthttp("Go SDK hello, throughput vs bare fasthttp", SeriesWedgeGo, 0.3, "1", "16", "64"),
		noShed("Go SDK hello, no non-2xx answer", sourceSpeed, SeriesWedgeGo),
		vsFasthttp("WAT hello, throughput vs bare fasthttp", SeriesWedgeWAT, 0.6, "16", "64"),
		vsFasthttp("minimal WASI command, throughput vs bare fasthttp", SeriesWedgeWASI, 0.5, "16", "64"),
		p99("WAT hello, p99 vs bare fasthttp", SeriesWedgeWAT, 3),
		p99("minimal WASI command, p99 vs bare fasthttp", SeriesWedgeWASI, 3),
		p99("Go SDK hello, p99 vs bare fasthttp", SeriesWedgeGo, 10),
	}
	for _, s := range wedgeTargetSeries {
		ts = append(ts, report.Target{Goal: "throughput vs workerd's JS hello", Source: sourceSpeed, Series: s,
			Against: SeriesWorkerdJS, Metric: report.Throughput, AtLeast: true, Want: 2})
	}
	ts = append(ts,
		report.Target{Goal: "JS hello, throughput vs workerd's", Source: sourceJS, Series: SeriesWedgeJS,
			Against: SeriesWorkerdJS, Metric: report.Throughput, AtLeast: true, Want: 1.5, Configs: []string{"16", "64"}},
		noShed("JS hello, no non-2xx answer", sourceJS, SeriesWedgeJS),
	)
	return ts
}

// targetsFor keeps the targets whose series (and the series compared
// with) the scenario measured: a run of some servers only is not marked
// down for the others.
func targetsFor(sc report.Scenario, ts []report.Target) []report.Target {
	has := func(name string) bool {
		_, ok := sc.Lookup(name)
		return ok
	}
	return slices.DeleteFunc(slices.Clone(ts), func(t report.Target) bool {
		return !has(t.Series) || (t.Against != "" && !has(t.Against))
	})
}
