package loadgen

import (
	"errors"
	"fmt"
	"time"
)

// Modes reported in Result.Mode.
const (
	ModeClosed = "closed"
	ModeOpen   = "open"
	ModeMixed  = "mixed" // only from Merge of results with different modes
)

// LatencySummary holds latency percentiles in microseconds.
type LatencySummary struct {
	P50  float64 `json:"p50_us"`
	P90  float64 `json:"p90_us"`
	P99  float64 `json:"p99_us"`
	P999 float64 `json:"p999_us"`
	Max  float64 `json:"max_us"`
	Mean float64 `json:"mean_us"`
}

// Result is what one run measured, excluding the warmup. It is
// JSON-serialisable; Histogram keeps the full latency distribution so
// results can be re-aggregated.
type Result struct {
	Mode        string  `json:"mode"`
	URL         string  `json:"url"`
	Method      string  `json:"method"`
	Connections int     `json:"connections"`
	TargetRate  float64 `json:"target_rate_rps,omitempty"`

	// Requests is every measured request: Responses plus transport errors.
	Requests int64 `json:"requests"`
	// Responses counts requests that got an HTTP response, any status.
	Responses int64 `json:"responses"`
	// Errors counts transport failures by kind (ErrKind* constants).
	Errors map[string]int64 `json:"errors"`
	// StatusCodes counts responses by HTTP status.
	StatusCodes map[int]int64 `json:"status_codes"`
	// Unsent (open loop only) counts requests due in the measured window
	// that were never sent because every connection stayed busy until the
	// window closed: a sign the target rate was beyond what the server (or
	// the generator) could take. They are not part of Requests.
	Unsent int64 `json:"unsent,omitempty"`

	// Duration is the measured wall time: from the end of the warmup to
	// the last measured response, and at least the configured Duration
	// unless MaxRequests or cancellation ended the run earlier.
	Duration time.Duration `json:"duration_ns"`
	// Throughput is Responses per second of Duration.
	Throughput float64 `json:"throughput_rps"`
	// SuccessThroughput is 2xx responses per second of Duration.
	SuccessThroughput float64 `json:"success_throughput_rps"`

	// Latency summarises the latencies of the 2xx responses only: a fast
	// 503 from a node shedding load is not a served request and would make
	// the percentiles look better the more is shed. Shed gives the share of
	// the other answers beside it; AllLatency covers every response.
	// Transport errors are in neither. Open-loop latencies are measured
	// from the intended send time.
	Latency LatencySummary `json:"latency"`
	// AllLatency summarises the latencies of every response, any status.
	AllLatency LatencySummary `json:"all_latency"`
	// Shed is the share of responses that were not 2xx (0..1): shed with
	// 503, refused, failed.
	Shed float64 `json:"shed_share"`
	// Histogram is the merged latency histogram of the 2xx responses
	// (nanoseconds), HdrHistogram V2 compressed base64; see
	// DecodeHistogram. AllHistogram is that of every response.
	Histogram    string `json:"histogram"`
	AllHistogram string `json:"all_histogram"`

	// SendLag (open loop only) summarises how late measured requests left
	// the generator after their intended send time: time spent waiting for
	// a free connection plus the generator's own wake-up error. It is part
	// of Latency. A SendLag near Latency means the queueing happened before
	// the request reached the server (overload, or a generator too slow).
	SendLag *LatencySummary `json:"send_lag,omitempty"`
	// SendLagHistogram is the encoded send-lag histogram, like Histogram.
	SendLagHistogram string `json:"send_lag_histogram,omitempty"`
}

// ErrorCount is the number of transport errors of all kinds.
func (r Result) ErrorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// DecodeHistogram decodes r.Histogram.
func (r Result) DecodeHistogram() (*Histogram, error) {
	return DecodeHistogram(r.Histogram)
}

// finish fills the derived fields from counts, duration and histograms
// (ok: 2xx responses, all: every response); lag is nil in closed-loop
// mode.
func (r *Result) finish(ok, all, lag *Histogram) error {
	if r.Errors == nil {
		r.Errors = map[string]int64{}
	}
	if r.StatusCodes == nil {
		r.StatusCodes = map[int]int64{}
	}
	r.Responses = 0
	var n2xx int64
	for code, n := range r.StatusCodes {
		r.Responses += n
		if code >= 200 && code < 300 {
			n2xx += n
		}
	}
	r.Requests = r.Responses + r.ErrorCount()
	r.Throughput, r.SuccessThroughput = 0, 0
	if s := r.Duration.Seconds(); s > 0 {
		r.Throughput = float64(r.Responses) / s
		r.SuccessThroughput = float64(n2xx) / s
	}
	r.Shed = 0
	if r.Responses > 0 {
		r.Shed = float64(r.Responses-n2xx) / float64(r.Responses)
	}
	r.Latency, r.AllLatency = ok.Summary(), all.Summary()
	var err error
	if r.Histogram, err = ok.Encode(); err != nil {
		return err
	}
	if r.AllHistogram, err = all.Encode(); err != nil {
		return err
	}
	r.SendLag, r.SendLagHistogram = nil, ""
	if lag != nil {
		s := lag.Summary()
		r.SendLag = &s
		if r.SendLagHistogram, err = lag.Encode(); err != nil {
			return err
		}
	}
	return nil
}

// ErrNothingToMerge is returned by Merge without results.
var ErrNothingToMerge = errors.New("loadgen: no results to merge")

// Merge combines results of generators that ran at the same time against
// the same target (for example one per process): counts and histograms are
// added, Duration is the longest, Connections and TargetRate are summed,
// and throughput and percentiles are recomputed from the merged data.
func Merge(results ...Result) (Result, error) {
	if len(results) == 0 {
		return Result{}, ErrNothingToMerge
	}
	out := Result{
		Mode:        results[0].Mode,
		URL:         results[0].URL,
		Method:      results[0].Method,
		Errors:      map[string]int64{},
		StatusCodes: map[int]int64{},
	}
	h, all := NewHistogram(), NewHistogram()
	var lag *Histogram
	for i, r := range results {
		if r.Mode != out.Mode {
			out.Mode = ModeMixed
		}
		if r.URL != out.URL {
			out.URL = ""
		}
		if r.Method != out.Method {
			out.Method = ""
		}
		out.Connections += r.Connections
		out.TargetRate += r.TargetRate
		out.Duration = max(out.Duration, r.Duration)
		out.Unsent += r.Unsent
		for k, n := range r.Errors {
			out.Errors[k] += n
		}
		for k, n := range r.StatusCodes {
			out.StatusCodes[k] += n
		}
		rh, err := r.DecodeHistogram()
		if err != nil {
			return Result{}, fmt.Errorf("result %d: %w", i, err)
		}
		h.Merge(rh)
		if r.AllHistogram != "" {
			ah, err := DecodeHistogram(r.AllHistogram)
			if err != nil {
				return Result{}, fmt.Errorf("result %d: %w", i, err)
			}
			all.Merge(ah)
		}
		if r.SendLagHistogram != "" {
			lh, err := DecodeHistogram(r.SendLagHistogram)
			if err != nil {
				return Result{}, fmt.Errorf("result %d send lag: %w", i, err)
			}
			if lag == nil {
				lag = NewHistogram()
			}
			lag.Merge(lh)
		}
	}
	if err := out.finish(h, all, lag); err != nil {
		return Result{}, err
	}
	return out, nil
}
