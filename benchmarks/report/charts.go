package report

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Chart size.
const (
	chartWidth  = 16 * vg.Centimeter
	chartHeight = 10 * vg.Centimeter
)

// WriteThroughputChart draws a line chart of the median of the
// scenario's chart metric (throughput, or p50 for a scenario of times
// only) against X, one line per series, in format ChartSVG or ChartPNG.
func WriteThroughputChart(w io.Writer, sc Scenario, format string) error {
	p, err := metricPlot(&sc, chartMetric(&sc))
	if err != nil {
		return err
	}
	return writePlot(w, p, format)
}

// WriteRatioChart draws a bar chart of each series' median throughput
// divided by the baseline's, grouped by configuration, with a line at 1.
// It returns ErrNoBaseline when the scenario has no baseline series.
func WriteRatioChart(w io.Writer, sc Scenario, format string) error {
	p, err := ratioPlot(&sc)
	if err != nil {
		return err
	}
	return writePlot(w, p, format)
}

func writePlot(w io.Writer, p *plot.Plot, format string) error {
	if format != ChartSVG && format != ChartPNG {
		return fmt.Errorf("report: unknown chart format %q", format)
	}
	wt, err := p.WriterTo(chartWidth, chartHeight, format)
	if err != nil {
		return fmt.Errorf("report: render chart: %w", err)
	}
	// Render fully before writing, so a failure leaves w untouched.
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("report: render chart: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// seriesColor gives series i the same colour on every chart.
func seriesColor(i int) color.Color { return plotutil.Color(i) }

// chartMetric is the metric a scenario's chart shows: throughput when
// measured, else the first metric measured.
func chartMetric(sc *Scenario) Metric {
	if sc.Measures(Throughput) {
		return Throughput
	}
	return sc.Measured()[0]
}

func metricPlot(sc *Scenario, m Metric) (*plot.Plot, error) {
	p := plot.New()
	xLabel := sc.XLabel
	if xLabel == "" {
		xLabel = "configuration"
	}
	p.Title.Text = sc.Name + ": " + m.String() + " by " + xLabel
	p.X.Label.Text = xLabel
	switch {
	case m == Throughput && sc.Unit == "":
		p.Y.Label.Text = "requests/s (median)"
	default:
		p.Y.Label.Text = m.String() + ", " + sc.UnitOf(m) + " (median)"
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())

	ticks := map[float64]string{}
	var xs []float64
	ymax := 0.0
	for i, s := range sc.Series {
		pts := make(plotter.XYs, 0, len(s.Points))
		for _, pt := range s.Points {
			y := Median(pt.Samples.Of(m))
			if math.IsNaN(y) || math.IsInf(pt.X, 0) || math.IsNaN(pt.X) {
				continue
			}
			pts = append(pts, plotter.XY{X: pt.X, Y: y})
			ymax = math.Max(ymax, y)
			if _, ok := ticks[pt.X]; !ok {
				ticks[pt.X] = pt.Config
				xs = append(xs, pt.X)
			}
		}
		if len(pts) == 0 {
			continue
		}
		slices.SortFunc(pts, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("report: series %q: %w", s.Name, err)
		}
		line.Color = seriesColor(i)
		line.Width = vg.Points(1.5)
		points.Color = seriesColor(i)
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(s.Name, line, points)
	}
	slices.Sort(xs)
	if len(xs) > 0 {
		if xs[0] > 0 && xs[len(xs)-1]/xs[0] >= 8 {
			p.X.Scale = plot.LogScale{}
		}
		// Pad the range so the end points are not on the frame.
		if _, log := p.X.Scale.(plot.LogScale); log {
			p.X.Min, p.X.Max = xs[0]/1.25, xs[len(xs)-1]*1.25
		} else {
			pad := math.Max((xs[len(xs)-1]-xs[0])*0.05, 0.5)
			p.X.Min, p.X.Max = xs[0]-pad, xs[len(xs)-1]+pad
		}
		marks := make(plot.ConstantTicks, len(xs))
		for i, x := range xs {
			marks[i] = plot.Tick{Value: x, Label: ticks[x]}
		}
		p.X.Tick.Marker = marks
	}
	p.Y.Min = 0
	p.Y.Max = math.Max(ymax*1.15, 1)
	return p, nil
}

func ratioPlot(sc *Scenario) (*plot.Plot, error) {
	ratios, err := sc.Ratios(Throughput)
	if err != nil {
		return nil, err
	}
	configs := sc.Configs()
	index := map[string]int{}
	for i, c := range configs {
		index[c] = i
	}

	p := plot.New()
	xLabel := sc.XLabel
	if xLabel == "" {
		xLabel = "configuration"
	}
	p.Title.Text = sc.Name + ": throughput relative to " + sc.Baseline
	p.X.Label.Text = xLabel
	p.Y.Label.Text = "median throughput / " + sc.Baseline
	p.Legend.Top = true
	p.Add(plotter.NewGrid())

	var others []int // indexes into sc.Series
	for i, s := range sc.Series {
		if s.Name != sc.Baseline {
			others = append(others, i)
		}
	}
	width := vg.Points(math.Min(40, 240/float64(max(1, len(configs)*len(others)))))
	ymax := 1.0
	for j, si := range others {
		name := sc.Series[si].Name
		vals := make(plotter.Values, len(configs)) // 0 where no ratio
		for _, r := range ratios {
			if r.Series == name && !math.IsNaN(r.Ratio) && !math.IsInf(r.Ratio, 0) {
				vals[index[r.Config]] = r.Ratio
				ymax = math.Max(ymax, r.Ratio)
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("report: series %q: %w", name, err)
		}
		bars.Color = seriesColor(si)
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(float64(j)-float64(len(others)-1)/2)
		p.Add(bars)
		p.Legend.Add(name, bars)
	}
	one, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 1}, {X: float64(len(configs)) - 0.5, Y: 1}})
	if err != nil {
		return nil, err
	}
	one.Color = color.Gray{Y: 80}
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(one)
	p.Legend.Add(sc.Baseline+" = 1", one)
	p.NominalX(configs...)
	p.X.Min, p.X.Max = -0.5, float64(len(configs))-0.5
	p.Y.Min, p.Y.Max = 0, ymax*1.2
	return p, nil
}
