package loadgen

import (
	"errors"
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// ErrHistogram is returned when an encoded histogram cannot be decoded.
var ErrHistogram = errors.New("loadgen: bad encoded histogram")

// Histogram geometry. Values are nanoseconds; three significant digits
// keep every percentile within 0.1% of the true value.
const (
	// MaxLatency is the largest latency a Histogram can hold; longer
	// latencies are recorded as MaxLatency.
	MaxLatency     = 10 * time.Minute
	histSigFigures = 3
	// lagSigFigures is the precision of the open-loop send-lag histograms:
	// 1% is plenty and keeps them small.
	lagSigFigures = 2
)

// Histogram is a mergeable latency distribution backed by an HDR
// histogram. Its zero value is ready to use. It is not safe for concurrent
// use.
type Histogram struct {
	h *hdrhistogram.Histogram
}

// NewHistogram returns an empty Histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: newHDR()}
}

func newHDR() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(MaxLatency), histSigFigures)
}

// newLagHistogram returns a coarser Histogram for send lag.
func newLagHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(1, int64(MaxLatency), lagSigFigures)}
}

func (h *Histogram) hdr() *hdrhistogram.Histogram {
	if h.h == nil {
		h.h = newHDR()
	}
	return h.h
}

// Record adds one latency. Negative values count as 0 and values above
// MaxLatency as MaxLatency.
func (h *Histogram) Record(d time.Duration) {
	h.RecordN(d, 1)
}

// RecordN adds n occurrences of one latency.
func (h *Histogram) RecordN(d time.Duration, n int64) {
	d = min(max(d, 0), MaxLatency)
	// In range by construction; an error here can only be a count overflow.
	_ = h.hdr().RecordValues(int64(d), n)
}

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.h == nil {
		return
	}
	h.hdr().Merge(o.h)
}

// Count is the number of recorded values.
func (h *Histogram) Count() int64 { return h.hdr().TotalCount() }

// Percentile returns the value at percentile p (0..100), 0 when empty.
func (h *Histogram) Percentile(p float64) time.Duration {
	return time.Duration(h.hdr().ValueAtPercentile(p))
}

// Max returns the largest recorded value (to histogram precision), 0 when
// empty.
func (h *Histogram) Max() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.hdr().Max())
}

// Min returns the smallest recorded value (to histogram precision).
func (h *Histogram) Min() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.hdr().Min())
}

// Mean returns the mean recorded value.
func (h *Histogram) Mean() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.hdr().Mean())
}

// Summary returns the percentiles reported in a Result.
func (h *Histogram) Summary() LatencySummary {
	return LatencySummary{
		P50:  micros(h.Percentile(50)),
		P90:  micros(h.Percentile(90)),
		P99:  micros(h.Percentile(99)),
		P999: micros(h.Percentile(99.9)),
		Max:  micros(h.Max()),
		Mean: micros(h.Mean()),
	}
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Encode returns the histogram in the standard HdrHistogram V2 compressed
// encoding, base64: the form other HdrHistogram tools read. Values are
// nanoseconds.
func (h *Histogram) Encode() (string, error) {
	b, err := h.hdr().Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("loadgen: encode histogram: %w", err)
	}
	return string(b), nil
}

// DecodeHistogram parses the output of Histogram.Encode. Histograms
// encoded with another geometry are re-recorded into the standard one.
func DecodeHistogram(s string) (*Histogram, error) {
	if s == "" {
		return NewHistogram(), nil
	}
	d, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHistogram, err)
	}
	h := NewHistogram()
	if dropped := h.h.Merge(d); dropped > 0 {
		// Values beyond MaxLatency: keep them, clamped, like Record does.
		h.RecordN(MaxLatency, dropped)
	}
	return h, nil
}
