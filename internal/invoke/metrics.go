package invoke

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
)

// metrics counts invocations by function and outcome, whichever way they
// came (HTTP or event).
type metrics struct {
	retired atomic.Int64 // invocations moved to a new version after theirs was retired
	mu      sync.RWMutex
	fns     map[string]*fnMetrics
}

type fnMetrics struct{ ok, failed, shed atomic.Int64 }

func newMetrics() metrics { return metrics{fns: map[string]*fnMetrics{}} }

func (m *metrics) function(name string) *fnMetrics {
	m.mu.RLock()
	f := m.fns[name]
	m.mu.RUnlock()
	if f != nil {
		return f
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if f = m.fns[name]; f == nil {
		f = &fnMetrics{}
		m.fns[name] = f
	}
	return f
}

// FunctionCounts are one function's invocations by outcome.
type FunctionCounts struct {
	OK, Failed, Shed int64
}

// Counts returns the per-function counters and the number of
// invocations moved to a new version after theirs was retired.
func (s *Service) Counts() (fns map[string]FunctionCounts, retired int64) {
	s.metrics.mu.RLock()
	defer s.metrics.mu.RUnlock()
	fns = make(map[string]FunctionCounts, len(s.metrics.fns))
	for n, f := range s.metrics.fns {
		fns[n] = FunctionCounts{OK: f.ok.Load(), Failed: f.failed.Load(), Shed: f.shed.Load()}
	}
	return fns, s.metrics.retired.Load()
}

// WriteMetrics writes the service's counters in the Prometheus text
// format.
func (s *Service) WriteMetrics(w io.Writer) {
	fns, retired := s.Counts()
	fmt.Fprintf(w, "# HELP wedge_retired_retries_total Invocations run again on a function's new version because a deploy retired theirs.\n# TYPE wedge_retired_retries_total counter\nwedge_retired_retries_total %d\n", retired)
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "# HELP wedge_function_invocations_total Invocations by function and result (HTTP and events): ok, error, shed (refused by admission).\n# TYPE wedge_function_invocations_total counter\n")
	for _, n := range names {
		c := fns[n]
		fmt.Fprintf(w, "wedge_function_invocations_total{function=%q,result=\"ok\"} %d\n", n, c.OK)
		fmt.Fprintf(w, "wedge_function_invocations_total{function=%q,result=\"error\"} %d\n", n, c.Failed)
		fmt.Fprintf(w, "wedge_function_invocations_total{function=%q,result=\"shed\"} %d\n", n, c.Shed)
	}
}
