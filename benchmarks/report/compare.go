package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
)

// Delta compares one metric of one Point between two Runs.
type Delta struct {
	Scenario string
	Series   string
	Config   string
	Metric   Metric
	Old, New Summary
	// Change is New.Median / Old.Median - 1 (0.05 for +5%); NaN when a
	// side is missing or Old.Median is 0.
	Change float64
	// Test compares the old and new samples; valid when Tested.
	Test   UTest
	Tested bool
}

// Compare matches scenarios, series and configs by name between oldRun
// and newRun and compares every metric. Rows follow newRun's order, with
// what only oldRun has (an empty New) after the rest of its scenario.
func Compare(oldRun, newRun Run) []Delta {
	var out []Delta
	for _, key := range pointKeys(oldRun, newRun) {
		op, nop := findPoint(oldRun, key)
		np, nnp := findPoint(newRun, key)
		for _, m := range measuredIn(oldRun, newRun, key.scenario) {
			d := Delta{Scenario: key.scenario, Series: key.series, Config: key.config, Metric: m, Change: math.NaN()}
			var olds, news []float64
			if nop {
				olds = op.Samples.Of(m)
			}
			if nnp {
				news = np.Samples.Of(m)
			}
			d.Old, d.New = Summarize(olds), Summarize(news)
			if d.Old.N > 0 && d.New.N > 0 && d.Old.Median != 0 {
				d.Change = d.New.Median/d.Old.Median - 1
			}
			if t, err := MannWhitney(olds, news); err == nil {
				d.Test, d.Tested = t, true
			}
			out = append(out, d)
		}
	}
	return out
}

// measuredIn returns the metrics scenario measures, in newRun if it has
// it, else in oldRun.
func measuredIn(oldRun, newRun Run, scenario string) []Metric {
	for _, r := range []Run{newRun, oldRun} {
		for i := range r.Scenarios {
			if r.Scenarios[i].Name == scenario {
				return r.Scenarios[i].Measured()
			}
		}
	}
	return Metrics
}

type pointKey struct{ scenario, series, config string }

// pointKeys lists every (scenario, series, config) grouped by scenario:
// scenarios in newRun's order and then those only oldRun has; within one,
// newRun's points and then those only oldRun has.
func pointKeys(oldRun, newRun Run) []pointKey {
	var names []string
	seenName := map[string]bool{}
	for _, run := range []Run{newRun, oldRun} {
		for _, sc := range run.Scenarios {
			if !seenName[sc.Name] {
				seenName[sc.Name] = true
				names = append(names, sc.Name)
			}
		}
	}
	seen := map[pointKey]bool{}
	var keys []pointKey
	for _, name := range names {
		for _, run := range []Run{newRun, oldRun} {
			for _, sc := range run.Scenarios {
				if sc.Name != name {
					continue
				}
				for _, s := range sc.Series {
					for _, p := range s.Points {
						k := pointKey{sc.Name, s.Name, p.Config}
						if !seen[k] {
							seen[k] = true
							keys = append(keys, k)
						}
					}
				}
			}
		}
	}
	return keys
}

func findPoint(run Run, k pointKey) (*Point, bool) {
	for i := range run.Scenarios {
		sc := &run.Scenarios[i]
		if sc.Name != k.scenario {
			continue
		}
		if s, ok := sc.Lookup(k.series); ok {
			if p, ok := s.Lookup(k.config); ok {
				return p, true
			}
		}
	}
	return nil, false
}

// RenderComparison writes a benchstat-like Markdown comparison of old and
// new: the two machines side by side, then per scenario a table of old and
// new medians (± spread), the change, and the Mann-Whitney p-value with
// the sample counts. A change that is not significant at Alpha is shown as
// "~", as benchstat does.
func RenderComparison(w io.Writer, oldRun, newRun Run) error {
	om, nm := oldRun.Machine, newRun.Machine
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# Benchmark comparison\n\n")
	fmt.Fprintf(b, "| | Old | New |\n| --- | --- | --- |\n")
	for _, r := range [][3]string{
		{"Title", orDash(oldRun.Title), orDash(newRun.Title)},
		{"Date", formatDate(om.Date), formatDate(nm.Date)},
		{"CPU", fmt.Sprintf("%s (%d cores)", orDash(om.CPUModel), om.Cores),
			fmt.Sprintf("%s (%d cores)", orDash(nm.CPUModel), nm.Cores)},
		{"Go", orDash(om.GoVersion), orDash(nm.GoVersion)},
		{"OS", orDash(om.OS) + "/" + orDash(om.Arch), orDash(nm.OS) + "/" + orDash(nm.Arch)},
	} {
		fmt.Fprintf(b, "| %s | %s | %s |\n", r[0], escapeCell(r[1]), escapeCell(r[2]))
	}
	fmt.Fprintf(b, "\nOld and New are medians ± the largest distance of min or max from the median. ")
	fmt.Fprintf(b, "Delta is the change of the median; `~` means the change is not significant at α=%g ", Alpha)
	fmt.Fprintf(b, "(two-sided Mann-Whitney U test, p-value and runs old+new shown).\n")

	scenario := "\x00"
	for _, d := range Compare(oldRun, newRun) {
		if d.Scenario != scenario {
			scenario = d.Scenario
			fmt.Fprintf(b, "\n## %s\n\n", d.Scenario)
			writeRow(b, []string{"Series", "Config", "Metric", "Old", "New", "Delta", "Test"})
			writeRow(b, []string{"---", "--:", "---", "--:", "--:", "--:", "---"})
		}
		delta, test := "—", "—"
		if d.Tested {
			test = fmt.Sprintf("%s n=%d+%d", formatP(d.Test.P), d.Test.N1, d.Test.N2)
			delta = "~"
			if d.Test.Significant {
				delta = formatPercent(d.Change)
			}
		}
		writeRow(b, []string{escapeCell(d.Series), escapeCell(d.Config), metricHeader(d.Metric),
			formatSummary(d.Metric, d.Old), formatSummary(d.Metric, d.New), delta, test})
	}
	return b.Flush()
}

// CompareFiles loads two results.json files and writes their comparison.
func CompareFiles(w io.Writer, oldPath, newPath string) error {
	oldRun, err := LoadRun(oldPath)
	if err != nil {
		return err
	}
	newRun, err := LoadRun(newPath)
	if err != nil {
		return err
	}
	return RenderComparison(w, oldRun, newRun)
}
