package loadgen

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"
)

// within reports whether got is within rel (relative) of want.
func within(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func TestHistogramPercentilesOnKnownData(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	if h.Count() != 10000 {
		t.Fatalf("count = %d, want 10000", h.Count())
	}
	s := h.Summary()
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"p50", s.P50, 5000},
		{"p90", s.P90, 9000},
		{"p99", s.P99, 9900},
		{"p99.9", s.P999, 9990},
		{"max", s.Max, 10000},
		{"mean", s.Mean, 5000.5},
	} {
		// Three significant digits: values are within 0.1%.
		if !within(c.got, c.want, 0.001) {
			t.Errorf("%s = %vµs, want %vµs ±0.1%%", c.name, c.got, c.want)
		}
	}
	if got := h.Min(); !within(float64(got), float64(time.Microsecond), 0.001) {
		t.Errorf("min = %v, want 1µs", got)
	}
}

func TestHistogramMergeEqualsWhole(t *testing.T) {
	whole, odd, even := NewHistogram(), NewHistogram(), &Histogram{} // zero value works too
	for i := 1; i <= 5000; i++ {
		d := time.Duration(i*i) * time.Nanosecond
		whole.Record(d)
		if i%2 == 1 {
			odd.Record(d)
		} else {
			even.Record(d)
		}
	}
	merged := NewHistogram()
	merged.Merge(odd)
	merged.Merge(even)
	merged.Merge(nil)
	if merged.Count() != whole.Count() {
		t.Fatalf("merged count %d, whole %d", merged.Count(), whole.Count())
	}
	if merged.Summary() != whole.Summary() {
		t.Fatalf("merged summary %+v != whole %+v", merged.Summary(), whole.Summary())
	}
	for _, p := range []float64{0, 10, 33.3, 50, 75, 99, 99.99, 100} {
		if merged.Percentile(p) != whole.Percentile(p) {
			t.Errorf("p%v: merged %v, whole %v", p, merged.Percentile(p), whole.Percentile(p))
		}
	}
}

func TestHistogramEncodeRoundTrip(t *testing.T) {
	h := NewHistogram()
	for i := range 1000 {
		h.Record(time.Duration(20+i%300) * time.Microsecond)
	}
	h.Record(3 * time.Second)
	enc, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeHistogram(enc)
	if err != nil {
		t.Fatal(err)
	}
	if back.Count() != h.Count() || back.Summary() != h.Summary() {
		t.Fatalf("round trip: %d %+v, want %d %+v", back.Count(), back.Summary(), h.Count(), h.Summary())
	}
	if _, err := DecodeHistogram("not base64!"); !errors.Is(err, ErrHistogram) {
		t.Fatalf("bad input: err = %v, want ErrHistogram", err)
	}
	empty, err := DecodeHistogram("")
	if err != nil || empty.Count() != 0 {
		t.Fatalf("empty: %v, %d", err, empty.Count())
	}
}

func TestHistogramClamps(t *testing.T) {
	h := NewHistogram()
	h.Record(-time.Second)
	h.Record(time.Hour)
	if h.Count() != 2 {
		t.Fatalf("count = %d", h.Count())
	}
	if h.Min() != 0 {
		t.Errorf("min = %v, want 0", h.Min())
	}
	if !within(float64(h.Max()), float64(MaxLatency), 0.001) {
		t.Errorf("max = %v, want ~%v", h.Max(), MaxLatency)
	}
	var empty Histogram
	if empty.Max() != 0 || empty.Mean() != 0 || empty.Percentile(99) != 0 {
		t.Errorf("empty histogram reports non-zero values")
	}
}

// resultWith makes a result of 2xx answers taking ok and others taking
// other.
func resultWith(t *testing.T, ok, other []time.Duration, status map[int]int64, errs map[string]int64, d time.Duration) Result {
	t.Helper()
	h, all := NewHistogram(), NewHistogram()
	for _, l := range ok {
		h.Record(l)
		all.Record(l)
	}
	for _, l := range other {
		all.Record(l)
	}
	r := Result{Mode: ModeClosed, URL: "http://127.0.0.1:1/", Method: "GET", Connections: 2,
		StatusCodes: status, Errors: errs, Duration: d}
	if err := r.finish(h, all, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMergeResultsReaggregates(t *testing.T) {
	a := resultWith(t, []time.Duration{100 * time.Microsecond, 200 * time.Microsecond}, nil,
		map[int]int64{200: 2}, map[string]int64{ErrKindTimeout: 1}, time.Second)
	b := resultWith(t, []time.Duration{300 * time.Microsecond}, []time.Duration{400 * time.Microsecond, time.Millisecond},
		map[int]int64{200: 1, 503: 2}, nil, 2*time.Second)

	// Through JSON, as results are stored.
	var stored []Result
	for _, r := range []Result{a, b} {
		raw, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, back)
	}
	m, err := Merge(stored...)
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 6 || m.Responses != 5 || m.ErrorCount() != 1 {
		t.Errorf("requests %d responses %d errors %d, want 6 5 1", m.Requests, m.Responses, m.ErrorCount())
	}
	if m.StatusCodes[200] != 3 || m.StatusCodes[503] != 2 {
		t.Errorf("status codes %v", m.StatusCodes)
	}
	if m.Duration != 2*time.Second || m.Connections != 4 {
		t.Errorf("duration %v connections %d", m.Duration, m.Connections)
	}
	if !within(m.Throughput, 2.5, 1e-9) || !within(m.SuccessThroughput, 1.5, 1e-9) {
		t.Errorf("throughput %v success %v, want 2.5 1.5", m.Throughput, m.SuccessThroughput)
	}
	// Percentiles of the 2xx answers; of every answer; the shed share.
	if !within(m.Latency.P50, 200, 0.001) || !within(m.Latency.Max, 300, 0.001) {
		t.Errorf("2xx latency %+v", m.Latency)
	}
	if !within(m.AllLatency.P50, 300, 0.001) || !within(m.AllLatency.Max, 1000, 0.001) {
		t.Errorf("latency of every answer %+v", m.AllLatency)
	}
	if !within(m.Shed, 0.4, 1e-9) {
		t.Errorf("shed share %v, want 0.4", m.Shed)
	}
	if _, err := Merge(); !errors.Is(err, ErrNothingToMerge) {
		t.Errorf("Merge() err = %v", err)
	}
}

// The per-request cost of recording a latency, part of the generator's
// overhead.
func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	d := 37 * time.Microsecond
	for b.Loop() {
		h.Record(d)
		d = (d*7 + 13*time.Microsecond) % (5 * time.Millisecond)
	}
}
