package report

import (
	"math"
	"strconv"
	"strings"
)

// formatValue renders a metric value: throughput as a whole number with
// thousands separators, latency with about three significant digits.
func formatValue(m Metric, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if m == Throughput {
		return groupThousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	}
	if m == Shed {
		if v == 0 {
			return "0%"
		}
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	}
	a := math.Abs(v)
	switch {
	case a < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return groupThousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	}
}

// groupThousands inserts commas into the integer digits of s.
func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return sign + s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return sign + b.String()
}

// formatSummary renders "median ±spread%" ("median" alone for one run).
func formatSummary(m Metric, s Summary) string {
	if s.N == 0 {
		return "—"
	}
	out := formatValue(m, s.Median)
	if m == Shed {
		// A share: the worst run beside the median, not a relative spread.
		if s.N > 1 && s.Max != s.Median {
			out += " (max " + formatValue(m, s.Max) + ")"
		}
		return out
	}
	if sp := s.Spread(); s.N > 1 && !math.IsNaN(sp) {
		out += " ±" + strconv.FormatFloat(math.Round(sp*100), 'f', 0, 64) + "%"
	}
	return out
}

// formatRatio renders a ratio such as "0.82×".
func formatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

// formatP renders a p-value with three decimals ("<0.001" below).
func formatP(p float64) string {
	if p < 0.001 {
		return "p<0.001"
	}
	return "p=" + strconv.FormatFloat(p, 'f', 3, 64)
}

// formatPercent renders a signed percentage such as "+3.21%".
func formatPercent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	s := strconv.FormatFloat(f*100, 'f', 2, 64)
	if f >= 0 {
		s = "+" + s
	}
	return s + "%"
}

// escapeCell makes s safe inside a Markdown table cell.
func escapeCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// slug turns a scenario name into a file name stem.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if s == "" {
		s = "scenario"
	}
	return s
}

// chartStems returns a unique file name stem per scenario, in order.
func chartStems(run Run) []string {
	taken := map[string]bool{}
	out := make([]string, len(run.Scenarios))
	for i, sc := range run.Scenarios {
		base := slug(sc.Name)
		s := base
		for n := 2; taken[s]; n++ {
			s = base + "-" + strconv.Itoa(n)
		}
		taken[s] = true
		out[i] = s
	}
	return out
}
