package gateway

import (
	"fmt"
	"io"
	"sort"
	"sync/atomic"
	"time"
)

// verMetrics counts the requests one version of a function answered, so
// that the two versions of a gradual rollout can be compared: answers by
// status class and their total duration.
type verMetrics struct {
	byStatus [6]atomic.Int64
	sumNanos atomic.Int64
	count    atomic.Int64
}

// version returns the counters of version v of f.
func (f *fnMetrics) version(v int64) *verMetrics {
	if m, ok := f.versions.Load(v); ok {
		return m.(*verMetrics)
	}
	m, _ := f.versions.LoadOrStore(v, &verMetrics{})
	return m.(*verMetrics)
}

func (m *verMetrics) observe(status int, d time.Duration) {
	if class := status / 100; class >= 1 && class <= 5 {
		m.byStatus[class].Add(1)
	}
	m.sumNanos.Add(int64(d))
	m.count.Add(1)
}

// writeVersionMetrics writes the per-version series of the functions
// names.
func (s *Server) writeVersionMetrics(w io.Writer, names []string) {
	type row struct {
		name string
		v    int64
		m    *verMetrics
	}
	var rows []row
	for _, n := range names {
		s.metrics.function(n).versions.Range(func(k, v any) bool {
			rows = append(rows, row{n, k.(int64), v.(*verMetrics)})
			return true
		})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].name != rows[j].name {
			return rows[i].name < rows[j].name
		}
		return rows[i].v < rows[j].v
	})
	fmt.Fprintf(w, "# HELP wedge_version_requests_total Public requests answered by each version of a function, by status class.\n# TYPE wedge_version_requests_total counter\n")
	for _, r := range rows {
		for class := 1; class <= 5; class++ {
			fmt.Fprintf(w, "wedge_version_requests_total{function=%q,version=\"%d\",code=\"%dxx\"} %d\n", r.name, r.v, class, r.m.byStatus[class].Load())
		}
	}
	fmt.Fprintf(w, "# HELP wedge_version_request_duration_seconds Time from routing to response, by version.\n# TYPE wedge_version_request_duration_seconds summary\n")
	for _, r := range rows {
		fmt.Fprintf(w, "wedge_version_request_duration_seconds_sum{function=%q,version=\"%d\"} %g\n", r.name, r.v, float64(r.m.sumNanos.Load())/1e9)
		fmt.Fprintf(w, "wedge_version_request_duration_seconds_count{function=%q,version=\"%d\"} %d\n", r.name, r.v, r.m.count.Load())
	}
}
