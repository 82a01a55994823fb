package report

import (
	"errors"
	"fmt"
	"math"
)

// ErrNoBaseline is returned when a scenario names no baseline series or
// has no series of that name.
var ErrNoBaseline = errors.New("report: scenario has no baseline series")

// BaselineRatio compares one Point of a Series with the baseline Series'
// Point of the same Config.
type BaselineRatio struct {
	Series string
	Config string
	Metric Metric
	// Ratio is median(series) / median(baseline); NaN when either side has
	// no samples or the baseline median is 0.
	Ratio float64
	// Test compares the two sample sets; valid when Tested.
	Test   UTest
	Tested bool
}

// Ratios returns, for every non-baseline Series and each of its Configs
// the baseline also has, the ratio of metric m to the baseline, in series
// order and then config order.
func (sc *Scenario) Ratios(m Metric) ([]BaselineRatio, error) {
	base, ok := sc.Lookup(sc.Baseline)
	if sc.Baseline == "" || !ok {
		return nil, fmt.Errorf("%w: scenario %q, baseline %q", ErrNoBaseline, sc.Name, sc.Baseline)
	}
	var out []BaselineRatio
	for _, s := range sc.Series {
		if s.Name == sc.Baseline {
			continue
		}
		for _, p := range s.Points {
			bp, ok := base.Lookup(p.Config)
			if !ok {
				continue
			}
			out = append(out, ratioOf(s.Name, p, *bp, m))
		}
	}
	return out, nil
}

func ratioOf(series string, p, base Point, m Metric) BaselineRatio {
	r := BaselineRatio{Series: series, Config: p.Config, Metric: m, Ratio: math.NaN()}
	if v, err := Ratio(p.Samples.Of(m), base.Samples.Of(m)); err == nil {
		r.Ratio = v
	}
	if t, err := MannWhitney(p.Samples.Of(m), base.Samples.Of(m)); err == nil {
		r.Test, r.Tested = t, true
	}
	return r
}
