package console

import (
	"sync"
	"time"

	"github.com/wedge-run/wedge/internal/gateway"
)

// Sample is one interval of a function's public requests on this node.
type Sample struct {
	T         int64   `json:"t"` // end of the interval, Unix seconds
	Requests  int64   `json:"requests"`
	RPS       float64 `json:"rps"`
	ErrorRate float64 `json:"error_rate"` // 5xx / requests, 0..1
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
}

// maxSeries bounds the functions with a history; a function idle for a
// whole window gives its place back.
const maxSeries = 1000

// history keeps, per function, the last n samples taken every interval
// from the gateway's counters: 360 x 10 s is the last hour, about 17 KiB
// per busy function.
type history struct {
	interval time.Duration
	n        int
	bounds   []float64

	mu     sync.Mutex
	prev   map[string]gateway.FunctionCounters
	prevAt time.Time
	series map[string]*series
}

type series struct {
	ring []Sample // oldest first once full, from head
	head int
	idle int // samples in a row without a request
}

func newHistory(interval time.Duration, n int, bounds []float64) *history {
	return &history{interval: interval, n: n, bounds: bounds, series: map[string]*series{}}
}

// record takes a sample at now from the counters cur.
func (h *history) record(now time.Time, cur map[string]gateway.FunctionCounters) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.prev != nil {
		secs := now.Sub(h.prevAt).Seconds()
		for name, c := range cur {
			s := sampleOf(now, secs, c, h.prev[name], h.bounds)
			sr := h.series[name]
			if sr == nil {
				if s.Requests == 0 || len(h.series) >= maxSeries {
					continue
				}
				sr = &series{}
				h.series[name] = sr
			}
			sr.add(s, h.n)
		}
		for name, sr := range h.series {
			if _, ok := cur[name]; !ok || sr.idle >= h.n {
				delete(h.series, name) // gone from the counters, or idle a whole window
			}
		}
	}
	h.prev, h.prevAt = cur, now
}

func (sr *series) add(s Sample, n int) {
	if s.Requests == 0 {
		sr.idle++
	} else {
		sr.idle = 0
	}
	if len(sr.ring) < n {
		sr.ring = append(sr.ring, s)
		return
	}
	sr.ring[sr.head] = s
	sr.head = (sr.head + 1) % n
}

// samples returns name's samples, oldest first, followed by a partial
// sample from the last one up to now (from cur) when there is one.
func (h *history) samples(name string, now time.Time, cur gateway.FunctionCounters, hasCur bool) []Sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []Sample{}
	if sr := h.series[name]; sr != nil {
		out = append(out, sr.ring[sr.head:]...)
		out = append(out, sr.ring[:sr.head]...)
	}
	if hasCur && h.prev != nil {
		if secs := now.Sub(h.prevAt).Seconds(); secs >= 0.5 {
			if s := sampleOf(now, secs, cur, h.prev[name], h.bounds); s.Requests > 0 || len(out) > 0 {
				out = append(out, s)
			}
		}
	}
	return out
}

// sampleOf is the interval between prev and cur, secs long.
func sampleOf(now time.Time, secs float64, cur, prev gateway.FunctionCounters, bounds []float64) Sample {
	s := Sample{T: now.Unix(), Requests: cur.Requests - prev.Requests}
	if s.Requests <= 0 || secs <= 0 {
		s.Requests = max(s.Requests, 0)
		return s
	}
	s.RPS = float64(s.Requests) / secs
	s.ErrorRate = float64(cur.Errors-prev.Errors) / float64(s.Requests)
	delta := make([]int64, len(cur.Buckets))
	for i := range delta {
		delta[i] = cur.Buckets[i]
		if i < len(prev.Buckets) {
			delta[i] -= prev.Buckets[i]
		}
	}
	s.P50 = quantile(delta, bounds, 0.50)
	s.P99 = quantile(delta, bounds, 0.99)
	return s
}

// quantile estimates the q-quantile, in milliseconds, of a latency
// histogram (counts per bucket, bounds in seconds) by linear
// interpolation inside the bucket that holds it, as Prometheus's
// histogram_quantile does. The last bucket has no upper bound: its
// quantiles read as the highest bound.
func quantile(counts []int64, bounds []float64, q float64) float64 {
	var total int64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var cum int64
	for i, c := range counts {
		if c == 0 || float64(cum+c) < rank {
			cum += c
			continue
		}
		if i >= len(bounds) {
			return bounds[len(bounds)-1] * 1000
		}
		lo := 0.0
		if i > 0 {
			lo = bounds[i-1]
		}
		frac := (rank - float64(cum)) / float64(c)
		return (lo + frac*(bounds[i]-lo)) * 1000
	}
	return bounds[len(bounds)-1] * 1000
}
