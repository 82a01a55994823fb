package report

import (
	"bufio"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
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
	s, ok := sc.Lookup(t.Series)
	if !ok {
		return math.NaN()
	}
	p, ok := s.Lookup(config)
	if !ok {
		return math.NaN()
	}
	xs := p.Samples.Of(t.Metric)
	if len(xs) == 0 {
		return math.NaN()
	}
	if t.Against == "" {
		if t.AtLeast {
			return Min(xs)
		}
		return Max(xs)
	}
	a, ok := sc.Lookup(t.Against)
	if !ok {
		return math.NaN()
	}
	ap, ok := a.Lookup(config)
	if !ok {
		return math.NaN()
	}
	r, err := Ratio(xs, ap.Samples.Of(t.Metric))
	if err != nil {
		return math.NaN()
	}
	return r
}

// writeTargets renders sc's targets as a table; nothing when it has none
// or none of their series was measured.
func writeTargets(b *bufio.Writer, sc *Scenario) {
	results := sc.Evaluate()
	measured := 0
	for _, r := range results {
		if !math.IsNaN(r.Measured) {
			measured++
		}
	}
	if measured == 0 {
		return
	}
	met := 0
	for _, r := range results {
		if r.Met {
			met++
		}
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
		measuredCell := formatTargetValue(t, r.Measured)
		if measuredCell == formatTargetValue(t, t.Want) && r.Measured != t.Want {
			// 0.597× is not 0.60×: a value on the bound by rounding shows
			// the digits that decided.
			measuredCell = strings.Replace(measuredCell, formatValue(t.Metric, r.Measured), strconv.FormatFloat(r.Measured, 'f', 4, 64), 1)
			if t.Against != "" {
				measuredCell = strconv.FormatFloat(r.Measured, 'f', 4, 64) + "× " + escapeCell(t.Against)
			}
		}
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
		return formatValue(t.Metric, v)
	}
	return formatValue(t.Metric, v) + " µs"
}
