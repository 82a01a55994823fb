package report

import (
	"errors"
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestMedianMinMax(t *testing.T) {
	for _, c := range []struct {
		xs            []float64
		med, min, max float64
	}{
		{[]float64{3}, 3, 3, 3},
		{[]float64{5, 1, 3}, 3, 1, 5},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
		{[]float64{7, 7, 1, 9, 7}, 7, 1, 9},
	} {
		if Median(c.xs) != c.med || Min(c.xs) != c.min || Max(c.xs) != c.max {
			t.Errorf("%v: median %v min %v max %v, want %v %v %v", c.xs, Median(c.xs), Min(c.xs), Max(c.xs), c.med, c.min, c.max)
		}
	}
	xs := []float64{3, 1, 2}
	Median(xs)
	if xs[0] != 3 || xs[1] != 1 {
		t.Errorf("Median modified its input: %v", xs)
	}
	if !math.IsNaN(Median(nil)) || !math.IsNaN(Min(nil)) || !math.IsNaN(Max(nil)) {
		t.Error("empty input should give NaN")
	}
	s := Summarize([]float64{90, 100, 103})
	if s.N != 3 || s.Median != 100 || !near(s.Spread(), 0.10, 1e-12) {
		t.Errorf("summary %+v spread %v", s, s.Spread())
	}
}

func TestRatioOfMedians(t *testing.T) {
	r, err := Ratio([]float64{40, 41, 39, 100}, []float64{50, 49, 51})
	if err != nil || !near(r, 40.5/50, 1e-12) {
		t.Fatalf("ratio %v, %v; want 0.81", r, err)
	}
	if _, err := Ratio(nil, []float64{1}); !errors.Is(err, ErrNoSamples) {
		t.Errorf("empty: %v", err)
	}
	if _, err := Ratio([]float64{1}, []float64{0, 0, 1}); !errors.Is(err, ErrZeroBaseline) {
		t.Errorf("zero baseline: %v", err)
	}
}

func TestMannWhitneyTextbook(t *testing.T) {
	// Ages of male and female subjects (the worked example of SciPy's
	// mannwhitneyu documentation): U1 = 17, exact two-sided p = 14/126.
	males := []float64{19, 22, 16, 29, 24}
	females := []float64{20, 11, 17, 12}
	u, err := MannWhitney(males, females)
	if err != nil {
		t.Fatal(err)
	}
	if u.U != 17 || !near(u.P, 14.0/126, 1e-12) || u.Significant || u.N1 != 5 || u.N2 != 4 {
		t.Errorf("got %+v, want U=17 p=0.1111 not significant", u)
	}

	// Completely separated samples of five: p = 2/C(10,5) = 0.0079, the
	// smallest p benchstat can report for 5 vs 5 runs.
	u, err = MannWhitney([]float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10})
	if err != nil {
		t.Fatal(err)
	}
	if u.U != 0 || !near(u.P, 2.0/252, 1e-12) || !u.Significant {
		t.Errorf("separated 5+5: %+v, want U=0 p=0.0079 significant", u)
	}

	// Three runs each can never be significant: p >= 2/C(6,3) = 0.1.
	u, _ = MannWhitney([]float64{1, 2, 3}, []float64{10, 11, 12})
	if !near(u.P, 0.1, 1e-12) || u.Significant {
		t.Errorf("separated 3+3: %+v", u)
	}

	// Aesop's tortoises and hares (Wikipedia's illustration): finishing
	// order T H H H H H T T T T T H, so U for tortoises is 11 and the
	// result is not significant.
	var tort, hare []float64
	for i, c := range "THHHHHTTTTTH" {
		// A lower finishing time for the earlier finisher.
		if c == 'T' {
			tort = append(tort, float64(i))
		} else {
			hare = append(hare, float64(i))
		}
	}
	u, _ = MannWhitney(hare, tort) // U counts pairs where the hare took longer
	if u.U != 11 || u.Significant {
		t.Errorf("tortoise and hare: %+v, want U=11 not significant", u)
	}
	if want := bruteForceP(hare, tort); !near(u.P, want, 1e-12) {
		t.Errorf("tortoise and hare p = %v, exact enumeration gives %v", u.P, want)
	}
}

func TestMannWhitneyTiesMatchEnumeration(t *testing.T) {
	a := []float64{1, 2, 2, 3, 5, 5}
	b := []float64{2, 3, 4, 4, 6, 7, 5}
	u, err := MannWhitney(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if want := bruteForceP(a, b); !near(u.P, want, 1e-9) {
		t.Fatalf("p = %v, exact enumeration gives %v", u.P, want)
	}
	if want := uStat(a, b); u.U != want {
		t.Fatalf("U = %v, want %v", u.U, want)
	}
}

func TestMannWhitneyEdgeCases(t *testing.T) {
	u, err := MannWhitney([]float64{5, 5, 5}, []float64{5, 5})
	if err != nil || u.P != 1 || u.Significant {
		t.Errorf("identical samples: %+v, %v", u, err)
	}
	if _, err := MannWhitney(nil, []float64{1}); !errors.Is(err, ErrNoSamples) {
		t.Errorf("empty: %v", err)
	}
	// Beyond the exact limit the normal approximation is used: 60 vs 60
	// separated values give z ≈ -9.44.
	var a, b []float64
	for i := range 60 {
		a = append(a, float64(i))
		b = append(b, float64(100+i))
	}
	u, err = MannWhitney(a, b)
	if err != nil || u.P > 1e-15 || !u.Significant {
		t.Errorf("large separated samples: %+v, %v", u, err)
	}
}

// uStat counts pairs with x > y, ties one half.
func uStat(xs, ys []float64) float64 {
	u := 0.0
	for _, x := range xs {
		for _, y := range ys {
			switch {
			case x > y:
				u++
			case x == y:
				u += 0.5
			}
		}
	}
	return u
}

// bruteForceP enumerates every split of the pooled values into groups of
// len(a) and len(b) and returns the exact two-sided p-value
// 2·P(U <= min(U, n1·n2-U)), capped at 1.
func bruteForceP(a, b []float64) float64 {
	pool := append(append([]float64{}, a...), b...)
	n, k := len(pool), len(a)
	obs := uStat(a, b)
	small := math.Min(obs, float64(len(a)*len(b))-obs)
	var total, atMost float64
	for mask := 0; mask < 1<<n; mask++ {
		if popcount(mask) != k {
			continue
		}
		var x, y []float64
		for i, v := range pool {
			if mask&(1<<i) != 0 {
				x = append(x, v)
			} else {
				y = append(y, v)
			}
		}
		total++
		if uStat(x, y) <= small+1e-9 {
			atMost++
		}
	}
	return math.Min(1, 2*atMost/total)
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}
