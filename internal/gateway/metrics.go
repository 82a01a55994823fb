package gateway

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the request duration
// histogram.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type metrics struct {
	notFound  atomic.Int64
	forwarded atomic.Int64 // every forward, whatever the reason
	byOwner   atomic.Int64 // forwards to the owner of an affinity key
	panics    atomic.Int64 // handler panics answered with 500 (recover.go)
	notOwner  atomic.Int64 // pinned requests refused: this node is not the key's owner and could not reach it
	mu        sync.RWMutex
	fns       map[string]*fnMetrics
}

type fnMetrics struct {
	byStatus [6]atomic.Int64 // 1xx..5xx by class, index 0 unused
	shed     atomic.Int64
	buckets  []atomic.Int64 // len(latencyBuckets)+1
	sumNanos atomic.Int64
	count    atomic.Int64
	versions sync.Map // int64 version -> *verMetrics (metrics_versions.go)
}

func newMetrics() *metrics { return &metrics{fns: map[string]*fnMetrics{}} }

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
		f = &fnMetrics{buckets: make([]atomic.Int64, len(latencyBuckets)+1)}
		m.fns[name] = f
	}
	return f
}

func (f *fnMetrics) observe(status int, d time.Duration) {
	if class := status / 100; class >= 1 && class <= 5 {
		f.byStatus[class].Add(1)
	}
	sec := d.Seconds()
	i := sort.SearchFloat64s(latencyBuckets, sec)
	f.buckets[i].Add(1)
	f.sumNanos.Add(int64(d))
	f.count.Add(1)
}

// SetMetrics replaces the metrics given in Deps.Metrics (Prometheus text
// format, written after the node's own): the node adds the cluster's
// once it has joined.
func (s *Server) SetMetrics(f func(w io.Writer)) { s.moreMetrics.Store(&f) }

// writeMetrics renders the Prometheus text exposition format.
func (s *Server) writeMetrics(w io.Writer) {
	st := s.engine.Stats()
	gauge := func(name, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %v\n", name, help, name, name, v)
	}
	counterm := func(name, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %v\n", name, help, name, name, v)
	}
	gauge("wedge_functions", "Functions deployed on this node.", s.reg.Len())
	ss := s.sched.Stats()
	gauge("wedge_inflight", "Invocations running now.", ss.InFlight)
	gauge("wedge_queued", "Requests waiting for an invocation slot.", ss.Queued)
	gauge("wedge_concurrency_limit", "Invocations allowed to run at once (moves in adaptive mode).", ss.Limit)
	counterm("wedge_shed_total", "Requests refused with 503 because the node was saturated.", ss.Shed)
	gauge("wedge_memory_budget_bytes", "Memory the invocations in flight may reserve (their functions' memory limits); 0: no budget.", ss.MemoryBudget)
	gauge("wedge_memory_reserved_bytes", "Memory reserved now by the invocations in flight (the sum of their functions' memory limits).", ss.MemoryReserved)
	gauge("wedge_instances", "Wasm instances alive now.", st.InstancesNow)
	gauge("wedge_modules", "Compiled modules alive now.", st.LiveModules)
	counterm("wedge_invocations_total", "Invocations started.", st.Invocations)
	counterm("wedge_traps_total", "Invocations that trapped.", st.Traps)
	counterm("wedge_timeouts_total", "Invocations interrupted by their time limit.", st.Timeouts)
	counterm("wedge_compiles_total", "Modules compiled from source.", st.Compiles)
	counterm("wedge_artifact_loads_total", "Modules loaded from the compiled artifact cache.", st.CacheLoads)
	gauge("wedge_wasmpool_fast_path", "1 if calls and host functions use wasmpool's fast path, 0 if they fall back to wasmtime-go's public API (3-4x slower; logged at start).", b2i(st.FastPath))
	counterm("wedge_modules_without_instancepre_total", "Modules loaded without an InstancePre, whose instances resolve their imports per request.", st.ModulesWithoutPre)
	counterm("wedge_not_found_total", "Public requests that matched no route.", s.metrics.notFound.Load())
	counterm("wedge_forwarded_total", "Requests forwarded to a peer: this node saturated, the function still being installed here, or its affinity key owned by the peer.", s.metrics.forwarded.Load())
	counterm("wedge_affinity_forwarded_total", "Requests forwarded to the node owning their affinity key.", s.metrics.byOwner.Load())
	counterm("wedge_handler_panics_total", "Handler panics of either server, answered with 500 and logged with their stack.", s.metrics.panics.Load())
	counterm("wedge_affinity_refused_total", "Requests under affinity refused with 503 by a node that does not own their key and could not hand them to its owner.", s.metrics.notOwner.Load())
	gauge("wedge_uptime_seconds", "Seconds since the node started.", int64(time.Since(s.started).Seconds()))

	s.metrics.mu.RLock()
	names := make([]string, 0, len(s.metrics.fns))
	for n := range s.metrics.fns {
		names = append(names, n)
	}
	s.metrics.mu.RUnlock()
	sort.Strings(names)
	fmt.Fprintf(w, "# HELP wedge_requests_total Public requests by function and status class.\n# TYPE wedge_requests_total counter\n")
	for _, n := range names {
		f := s.metrics.function(n)
		for class := 1; class <= 5; class++ {
			fmt.Fprintf(w, "wedge_requests_total{function=%q,code=\"%dxx\"} %d\n", n, class, f.byStatus[class].Load())
		}
	}
	fmt.Fprintf(w, "# HELP wedge_function_shed_total Requests to a function refused with 503.\n# TYPE wedge_function_shed_total counter\n")
	for _, n := range names {
		fmt.Fprintf(w, "wedge_function_shed_total{function=%q} %d\n", n, s.metrics.function(n).shed.Load())
	}
	fmt.Fprintf(w, "# HELP wedge_function_inflight Invocations of a function running now.\n# TYPE wedge_function_inflight gauge\n")
	for _, n := range names {
		fmt.Fprintf(w, "wedge_function_inflight{function=%q} %d\n", n, ss.Functions[n].InFlight)
	}
	fmt.Fprintf(w, "# HELP wedge_function_queued Requests for a function waiting for a slot.\n# TYPE wedge_function_queued gauge\n")
	for _, n := range names {
		fmt.Fprintf(w, "wedge_function_queued{function=%q} %d\n", n, ss.Functions[n].Queued)
	}
	fmt.Fprintf(w, "# HELP wedge_request_duration_seconds Time from routing to response.\n# TYPE wedge_request_duration_seconds histogram\n")
	for _, n := range names {
		f := s.metrics.function(n)
		var cum int64
		for i, b := range latencyBuckets {
			cum += f.buckets[i].Load()
			fmt.Fprintf(w, "wedge_request_duration_seconds_bucket{function=%q,le=\"%g\"} %d\n", n, b, cum)
		}
		cum += f.buckets[len(latencyBuckets)].Load()
		fmt.Fprintf(w, "wedge_request_duration_seconds_bucket{function=%q,le=\"+Inf\"} %d\n", n, cum)
		fmt.Fprintf(w, "wedge_request_duration_seconds_sum{function=%q} %g\n", n, float64(f.sumNanos.Load())/1e9)
		fmt.Fprintf(w, "wedge_request_duration_seconds_count{function=%q} %d\n", n, f.count.Load())
	}
	s.writeVersionMetrics(w, names)
	s.inv.WriteMetrics(w)
	if f := s.moreMetrics.Load(); f != nil {
		(*f)(w)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
