package outbound

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the latency histogram.
var latencyBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// errorKinds are the causes counted in wedge_outbound_errors_total.
var errorKinds = []string{"denied", "blocked", "timeout", "too_large", "busy", "network", "redirects"}

// maxSeries bounds the (function, host) pairs tracked; later pairs are
// counted under host "other" so a guest cannot grow /metrics unboundedly.
const maxSeries = 2000

type series struct {
	requests atomic.Int64
	errors   []atomic.Int64 // by errorKinds
	buckets  []atomic.Int64 // len(latencyBuckets)+1
	sumNanos atomic.Int64
}

type seriesKey struct{ fn, host string }

type metrics struct {
	mu sync.RWMutex
	m  map[seriesKey]*series
}

func (m *metrics) init() { m.m = map[seriesKey]*series{} }

func (m *metrics) get(fn, host string) *series {
	k := seriesKey{fn, strings.ToLower(host)}
	m.mu.RLock()
	s := m.m[k]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.m[k]; s == nil {
		if len(m.m) >= maxSeries {
			k.host = "other"
			if s = m.m[k]; s != nil {
				return s
			}
		}
		s = &series{errors: make([]atomic.Int64, len(errorKinds)), buckets: make([]atomic.Int64, len(latencyBuckets)+1)}
		m.m[k] = s
	}
	return s
}

// fail counts an error of a request that is (or will be) counted by done.
func (m *metrics) fail(fn, host, kind string) {
	s := m.get(fn, host)
	for i, k := range errorKinds {
		if k == kind {
			s.errors[i].Add(1)
		}
	}
}

// refused counts a request refused before any network wait: a request
// and an error, no latency.
func (m *metrics) refused(fn, host, kind string) {
	m.fail(fn, host, kind)
	m.get(fn, host).requests.Add(1)
}

func (m *metrics) done(fn, host string, d time.Duration) {
	s := m.get(fn, host)
	s.requests.Add(1)
	s.buckets[sort.SearchFloat64s(latencyBuckets, d.Seconds())].Add(1)
	s.sumNanos.Add(int64(d))
}

// WriteMetrics writes the outbound metrics in the Prometheus text format.
func (c *Client) WriteMetrics(w io.Writer) {
	m := &c.metrics
	m.mu.RLock()
	keys := make([]seriesKey, 0, len(m.m))
	for k := range m.m {
		keys = append(keys, k)
	}
	m.mu.RUnlock()
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].fn != keys[j].fn {
			return keys[i].fn < keys[j].fn
		}
		return keys[i].host < keys[j].host
	})
	lbl := func(k seriesKey) string {
		return fmt.Sprintf("function=%s,host=%s", strconv.Quote(k.fn), strconv.Quote(k.host))
	}
	fmt.Fprintln(w, "# HELP wedge_outbound_requests_total Outbound HTTP requests sent by guests, by function and destination host.")
	fmt.Fprintln(w, "# TYPE wedge_outbound_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "wedge_outbound_requests_total{%s} %d\n", lbl(k), m.get(k.fn, k.host).requests.Load())
	}
	fmt.Fprintln(w, "# HELP wedge_outbound_errors_total Outbound requests that failed, by kind.")
	fmt.Fprintln(w, "# TYPE wedge_outbound_errors_total counter")
	for _, k := range keys {
		s := m.get(k.fn, k.host)
		for i, kind := range errorKinds {
			if n := s.errors[i].Load(); n > 0 {
				fmt.Fprintf(w, "wedge_outbound_errors_total{%s,kind=%q} %d\n", lbl(k), kind, n)
			}
		}
	}
	fmt.Fprintln(w, "# HELP wedge_outbound_duration_seconds Outbound request latency, from send to close.")
	fmt.Fprintln(w, "# TYPE wedge_outbound_duration_seconds histogram")
	for _, k := range keys {
		s := m.get(k.fn, k.host)
		var cum, total int64
		for i := range s.buckets {
			total += s.buckets[i].Load()
		}
		for i, le := range latencyBuckets {
			cum += s.buckets[i].Load()
			fmt.Fprintf(w, "wedge_outbound_duration_seconds_bucket{%s,le=\"%g\"} %d\n", lbl(k), le, cum)
		}
		fmt.Fprintf(w, "wedge_outbound_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", lbl(k), total)
		fmt.Fprintf(w, "wedge_outbound_duration_seconds_sum{%s} %g\n", lbl(k), time.Duration(s.sumNanos.Load()).Seconds())
		fmt.Fprintf(w, "wedge_outbound_duration_seconds_count{%s} %d\n", lbl(k), total)
	}
}
