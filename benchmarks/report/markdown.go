package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Chart formats accepted in Options.ChartFormat.
const (
	ChartSVG  = "svg"
	ChartPNG  = "png"
	ChartNone = "none"
)

// Options control rendering. The zero value renders SVG charts and ratio
// columns for throughput and p99.
type Options struct {
	// ChartFormat is ChartSVG (default), ChartPNG or ChartNone.
	ChartFormat string
	// RatioMetrics get a "vs baseline" column; default Throughput, P99.
	RatioMetrics []Metric
}

func (o Options) withDefaults() (Options, error) {
	switch o.ChartFormat {
	case "":
		o.ChartFormat = ChartSVG
	case ChartSVG, ChartPNG, ChartNone:
	default:
		return o, fmt.Errorf("report: unknown chart format %q", o.ChartFormat)
	}
	if o.RatioMetrics == nil {
		o.RatioMetrics = []Metric{Throughput, P99}
	}
	return o, nil
}

// DefaultTitle is used for a Run without a Title.
const DefaultTitle = "wedge benchmark report"

// RenderMarkdown writes the report for run: machine details, then one
// table per scenario with the median ± spread of every metric per series
// and configuration, and the ratio to the baseline series with its
// Mann-Whitney p-value. Chart images are referenced by the names
// WriteReport gives them.
func RenderMarkdown(w io.Writer, run Run, opts Options) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	b := bufio.NewWriter(w)
	title := run.Title
	if title == "" {
		title = DefaultTitle
	}
	fmt.Fprintf(b, "# %s\n\n", title)
	writeMachine(b, run.Machine)
	fmt.Fprintf(b, "Cells show the median over repeated runs and, as ±, the largest distance of the minimum or maximum from it.\n")
	fmt.Fprintf(b, "Ratios are medians divided by the baseline's medians; the p-value is from a two-sided Mann-Whitney U test, ")
	fmt.Fprintf(b, "and `~` marks a difference that is not significant at α=%g.\n", Alpha)

	stems := chartStems(run)
	for i := range run.Scenarios {
		sc := &run.Scenarios[i]
		writeScenario(b, sc, stems[i], opts)
	}
	return b.Flush()
}

func writeMachine(b *bufio.Writer, m Machine) {
	rows := [][2]string{
		{"Date", formatDate(m.Date)},
		{"CPU", fmt.Sprintf("%s (%d cores)", orDash(m.CPUModel), m.Cores)},
		{"Go", orDash(m.GoVersion)},
		{"OS", orDash(m.OS) + "/" + orDash(m.Arch)},
	}
	if m.Pinning != "" {
		rows = append(rows, [2]string{"Pinning", m.Pinning})
	}
	if m.CPUIdle != "" {
		rows = append(rows, [2]string{"CPU idle", m.CPUIdle})
	}
	if len(m.Versions) > 0 {
		keys := make([]string, 0, len(m.Versions))
		for k := range m.Versions {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " " + m.Versions[k]
		}
		rows = append(rows, [2]string{"Versions", strings.Join(parts, ", ")})
	}
	fmt.Fprintf(b, "| Machine | |\n| --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s |\n", r[0], escapeCell(r[1]))
	}
	b.WriteString("\n")
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func metricHeader(m Metric) string { return scenarioHeader(nil, m) }

// scenarioHeader is a metric's column header in sc (nil: default units).
func scenarioHeader(sc *Scenario, m Metric) string {
	if m == Throughput {
		unit := m.Unit()
		if sc != nil {
			unit = sc.UnitOf(m)
		}
		return "Throughput (" + unit + ")"
	}
	if m == Shed {
		return "Non-2xx"
	}
	return m.String() + " (µs)"
}

func writeScenario(b *bufio.Writer, sc *Scenario, stem string, opts Options) {
	fmt.Fprintf(b, "\n## %s\n\n", sc.Name)
	if sc.Description != "" {
		fmt.Fprintf(b, "%s\n\n", sc.Description)
	}
	base, hasBase := sc.Lookup(sc.Baseline)
	hasBase = hasBase && sc.Baseline != ""
	if hasBase {
		fmt.Fprintf(b, "Baseline: **%s**.\n\n", sc.Baseline)
	}
	xLabel := capitalize(sc.XLabel)
	if xLabel == "" {
		xLabel = "Config"
	}

	header := []string{"Series", escapeCell(xLabel), "Runs"}
	align := []string{"---", "--:", "--:"}
	measured := sc.Measured()
	var ratioMetrics []Metric
	for _, m := range opts.RatioMetrics {
		if sc.Measures(m) {
			ratioMetrics = append(ratioMetrics, m)
		}
	}
	for _, m := range measured {
		header = append(header, scenarioHeader(sc, m))
		align = append(align, "--:")
	}
	if hasBase {
		for _, m := range ratioMetrics {
			name := m.String()
			if m == Throughput {
				name = "Throughput"
			}
			header = append(header, fmt.Sprintf("%s vs %s", name, escapeCell(sc.Baseline)))
			align = append(align, "--:")
		}
	}
	writeRow(b, header)
	writeRow(b, align)

	for _, config := range sc.Configs() {
		var order []*Series
		if hasBase {
			order = append(order, base)
		}
		for i := range sc.Series {
			if !hasBase || sc.Series[i].Name != sc.Baseline {
				order = append(order, &sc.Series[i])
			}
		}
		for _, s := range order {
			p, ok := s.Lookup(config)
			if !ok {
				continue
			}
			row := []string{escapeCell(s.Name), escapeCell(config), fmt.Sprint(len(p.Samples.Of(measured[0])))}
			for _, m := range measured {
				row = append(row, formatSummary(m, Summarize(p.Samples.Of(m))))
			}
			if hasBase {
				bp, bok := base.Lookup(config)
				for _, m := range ratioMetrics {
					switch {
					case s == base:
						row = append(row, "baseline")
					case !bok:
						row = append(row, "—")
					default:
						row = append(row, ratioCell(ratioOf(s.Name, *p, *bp, m)))
					}
				}
			}
			writeRow(b, row)
		}
	}

	writeTargets(b, sc)

	if opts.ChartFormat == ChartNone {
		return
	}
	cm := chartMetric(sc)
	fmt.Fprintf(b, "\n![%s: %s by %s](%s)\n", escapeAlt(sc.Name), cm, escapeAlt(strings.ToLower(xLabel)), chartName(stem, cm, opts.ChartFormat))
	if hasBase && len(sc.Series) > 1 && sc.Measures(Throughput) {
		fmt.Fprintf(b, "\n![%s: throughput relative to %s](%s)\n", escapeAlt(sc.Name), escapeAlt(sc.Baseline), ratioChartName(stem, opts.ChartFormat))
	}
}

func escapeAlt(s string) string {
	return strings.NewReplacer("[", "(", "]", ")", "\n", " ").Replace(s)
}

func ratioCell(r BaselineRatio) string {
	out := formatRatio(r.Ratio)
	if out == "—" || !r.Tested {
		return out
	}
	if !r.Test.Significant {
		out = "~ " + out
	}
	return out + " (" + formatP(r.Test.P) + ")"
}

func writeRow(b *bufio.Writer, cells []string) {
	b.WriteString("| ")
	b.WriteString(strings.Join(cells, " | "))
	b.WriteString(" |\n")
}

func throughputChartName(stem, format string) string { return chartName(stem, Throughput, format) }

// chartName is the file name of a scenario's chart of metric m.
func chartName(stem string, m Metric, format string) string {
	return stem + "-" + strings.ReplaceAll(m.String(), ".", "") + "." + format
}
func ratioChartName(stem, format string) string { return stem + "-ratio." + format }
