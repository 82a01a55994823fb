package report

import (
	"bufio"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Target is a goal a scenario's results are checked against: a ratio of
// one series' metric to another series' (Against), or, with Against
// empty, the metric's own value. The report lists every target with what
// was measured and whether it was met, so that a run shows at a glance
// where the product stands against what it promises.
type Target struct {
	// Goal says what is asked, for people ("Go SDK hello vs bare
	// fasthttp"); Source where it comes from ("issue 15").
	Goal   string `json:"goal"`
	Source string `json:"source,omitempty"`
	Series string `json:"series"`
	// Against is the series compared with; empty means an absolute
	// value of Series' metric.
	Against string `json:"against,omitempty"`
	Metric  Metric `json:"metric"`
	// AtLeast: the measured value must be >= Want; otherwise <= Want.
	AtLeast bool    `json:"at_least"`
	Want    float64 `json:"want"`
	// Configs are the configurations it applies to; empty means every
	// configuration the series has.
	Configs []string `json:"configs,omitempty"`
}

// TargetResult is a Target evaluated at one configuration.
type TargetResult struct {
	Target Target
	Config string
	// Measured is the ratio of medians (a ratio target) or the worst run
	// (an absolute one: a promise such as "no 503" must hold in every
	// run); NaN when the run lacks a series or configuration.
	Measured float64
	Met      bool
}

// Evaluate checks sc's targets at every configuration they apply to that
// the run measured (a run of fewer connection counts skips the others).
// A configuration the run measured but a series lacks gives Measured NaN
// and is not met.
func (sc *Scenario) Evaluate() []TargetResult {
	var out []TargetResult
	inRun := sc.Configs()
	for _, t := range sc.Targets {
		configs := t.Configs
		if len(configs) == 0 {
			if s, ok := sc.Lookup(t.Series); ok {
				for _, p := range s.Points {
					configs = append(configs, p.Config)
				}
			}
		}
		for _, c := range configs {
			if !slices.Contains(inRun, c) {
				continue
			}
			v := sc.measure(t, c)
			met := !math.IsNaN(v) && ((t.AtLeast && v >= t.Want) || (!t.AtLeast && v <= t.Want))
			out = append(out, TargetResult{Target: t, Config: c, Measured: v, Met: met})
		}
	}
	return out
}

func (sc *Scenario) measure(t Target, config string) float64 {
	xs := sc.samplesAt(t.Series, config, t.Metric)
	if len(xs) == 0 {
		return math.NaN()
	}
	if t.Against == "" {
		if t.AtLeast {
			return Min(xs)
		}
		return Max(xs)
	}
	r, err := Ratio(xs, sc.samplesAt(t.Against, config, t.Metric))
	if err != nil {
		return math.NaN()
	}
	return r
}

// samplesAt is series' values of metric m at config; nil when the
// scenario has no such point.
func (sc *Scenario) samplesAt(series, config string, m Metric) []float64 {
	s, ok := sc.Lookup(series)
	if !ok {
		return nil
	}
	p, ok := s.Lookup(config)
	if !ok {
		return nil
	}
	return p.Samples.Of(m)
}

// writeTargets renders sc's targets as a table; nothing when it has none
// or none of their series was measured.
func writeTargets(b *bufio.Writer, sc *Scenario) {
	results := sc.Evaluate()
	measured, met := 0, 0
	for _, r := range results {
		if !math.IsNaN(r.Measured) {
			measured++
		}
		if r.Met {
			met++
		}
	}
	if measured == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Targets\n\n")
	fmt.Fprintf(b, "%d of %d met. A ratio is of medians, as in the table above; an absolute target holds for the worst run.\n\n", met, len(results))
	xLabel := capitalize(sc.XLabel)
	if xLabel == "" {
		xLabel = "Config"
	}
	writeRow(b, []string{"Goal", "Source", "Series", escapeCell(xLabel), "Asked", "Measured", "Met"})
	writeRow(b, []string{"---", "---", "---", "--:", "--:", "--:", ":-:"})
	for _, r := range results {
		t := r.Target
		verdict := "no"
		if r.Met {
			verdict = "yes"
		}
		measuredCell := formatMeasured(t, r.Measured)
		if math.IsNaN(r.Measured) {
			measuredCell, verdict = "not measured", "—"
		}
		writeRow(b, []string{escapeCell(t.Goal), escapeCell(orDash(t.Source)), escapeCell(t.Series), escapeCell(r.Config),
			formatAsked(t), measuredCell, verdict})
	}
}

// formatAsked renders the goal's bound: "≥ 0.30× fasthttp", "≤ 0%".
func formatAsked(t Target) string {
	op := "≤ "
	if t.AtLeast {
		op = "≥ "
	}
	return op + formatTargetValue(t, t.Want)
}

func formatTargetValue(t Target, v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	if t.Against != "" {
		return formatRatio(v) + " " + escapeCell(t.Against)
	}
	if t.Metric == Throughput || t.Metric == Shed {
		return formatValue(t.Metric, v) // a share carries its "%"
	}
	return formatValue(t.Metric, v) + " µs"
}

// formatMeasured renders a measured value as formatTargetValue does,
// but one that rounds onto the bound without being it (0.597× against
// 0.6×) with the four decimals that decided.
func formatMeasured(t Target, v float64) string {
	s := formatTargetValue(t, v)
	if s != formatTargetValue(t, t.Want) || v == t.Want {
		return s
	}
	precise := strconv.FormatFloat(v, 'f', 4, 64)
	if t.Against != "" {
		return precise + "× " + escapeCell(t.Against)
	}
	return precise + targetUnit(t)
}

// targetUnit is what follows an absolute value of t's metric.
func targetUnit(t Target) string {
	switch t.Metric {
	case Throughput:
		return ""
	case Shed:
		return "%"
	}
	return " µs"
}
