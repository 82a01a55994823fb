package report

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/aclements/go-moremath/stats"
)

// Alpha is the significance level of every test in this package.
const Alpha = 0.05

// Errors of the statistics functions.
var (
	// ErrNoSamples is returned when a sample set needed is empty.
	ErrNoSamples = errors.New("report: no samples")
	// ErrZeroBaseline is returned by Ratio when the baseline median is 0.
	ErrZeroBaseline = errors.New("report: baseline median is zero")
)

// Summary describes one set of repeated measurements.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Summarize returns the median, minimum and maximum of xs. For an empty xs
// all three are NaN.
func Summarize(xs []float64) Summary {
	return Summary{N: len(xs), Median: Median(xs), Min: Min(xs), Max: Max(xs)}
}

// Spread is the larger distance of Min or Max from Median, as a fraction
// of Median (0.03 for ±3%). It is NaN when undefined.
func (s Summary) Spread() float64 {
	if s.N == 0 || s.Median == 0 {
		return math.NaN()
	}
	return math.Max(s.Max-s.Median, s.Median-s.Min) / math.Abs(s.Median)
}

// Median returns the median of xs (the mean of the two middle values for
// an even count), NaN for an empty xs. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Min returns the smallest value of xs, NaN for an empty xs.
func Min(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Min(xs)
}

// Max returns the largest value of xs, NaN for an empty xs.
func Max(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Max(xs)
}

// Ratio returns Median(xs) / Median(baseline).
func Ratio(xs, baseline []float64) (float64, error) {
	if len(xs) == 0 || len(baseline) == 0 {
		return math.NaN(), ErrNoSamples
	}
	b := Median(baseline)
	if b == 0 {
		return math.NaN(), ErrZeroBaseline
	}
	return Median(xs) / b, nil
}

// UTest is the outcome of a two-sided Mann-Whitney U test.
type UTest struct {
	N1, N2 int
	// U counts the pairs (x from the first set, y from the second) with
	// x > y, ties counting one half.
	U float64
	// P is the two-sided p-value.
	P float64
	// Significant is P <= Alpha.
	Significant bool
}

// MannWhitney tests whether a and b come from distributions with the same
// location, against the alternative that one tends to be larger. It uses
// the exact distribution of U for small samples (up to 50 per side without
// ties, 25 with) and the normal approximation with tie and continuity
// correction beyond. Identical samples give P = 1.
func MannWhitney(a, b []float64) (UTest, error) {
	t := UTest{N1: len(a), N2: len(b)}
	if len(a) == 0 || len(b) == 0 {
		return t, ErrNoSamples
	}
	r, err := stats.MannWhitneyUTest(a, b, stats.LocationDiffers)
	switch {
	case errors.Is(err, stats.ErrSamplesEqual):
		t.U = float64(len(a)*len(b)) / 2
		t.P = 1
		return t, nil
	case err != nil:
		return t, fmt.Errorf("report: Mann-Whitney U test: %w", err)
	}
	t.U, t.P = r.U, math.Min(r.P, 1)
	t.Significant = t.P <= Alpha
	return t, nil
}
