package cluster

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Propagation and failure-detection measurements. Each benchmark
// iteration is one trial, so choose the number of trials with
// -benchtime, for example:
//
//	go test -run '^$' -bench 'Propagation|FailureDetection' -benchtime 50x ./internal/cluster/
//	WEDGE_CLUSTER_SIM=1 go test -run '^$' -bench Simulation -benchtime 20x -timeout 30m ./internal/cluster/
//
// WEDGE_CLUSTER_PRESET=lan (or wan) measures with that preset's timings
// instead of "local". Reported: p50-ms, p99-ms and max-ms of the time
// from the publish on one node until the last node applied the change.

func benchPreset() string {
	if p := os.Getenv("WEDGE_CLUSTER_PRESET"); p != "" {
		return p
	}
	return PresetLocal
}

func reportPercentiles(b *testing.B, ds []time.Duration) {
	b.Helper()
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	pct := func(p float64) float64 {
		i := int(p * float64(len(ds)-1))
		return float64(ds[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, "max-ms")
}

// lastArrival waits until every node in nodes reports an arrival for
// the change (arrived returns it) and returns the latest one.
func lastArrival(b *testing.B, nodes []*testNode, timeout time.Duration, arrived func(*testNode) (time.Time, bool)) time.Time {
	b.Helper()
	deadline := time.Now().Add(timeout)
	var last time.Time
	for i := 0; i < len(nodes); {
		t, ok := arrived(nodes[i])
		if !ok {
			if time.Now().After(deadline) {
				n := nodes[i]
				b.Fatalf("change did not reach %s within %v: it sees %d alive, stats %+v", n.name, timeout, n.c.NumAlive(), n.c.Stats())
			}
			time.Sleep(time.Millisecond)
			continue
		}
		if t.After(last) {
			last = t
		}
		i++
	}
	return last
}

func benchCluster(b *testing.B, n int, mod ...func(*Config)) []*testNode {
	b.Helper()
	mod = append([]func(*Config){func(c *Config) { c.Preset = benchPreset() }}, mod...)
	return startCluster(b, n, mod...)
}

func others(nodes []*testNode, i int) []*testNode {
	out := slices.Clone(nodes[:i])
	return append(out, nodes[i+1:]...)
}

// BenchmarkPropagationFunction: a deployment (record + blob fetched
// over HTTP) reaching every node of a 5-node cluster.
func BenchmarkPropagationFunction(b *testing.B) {
	nodes := benchCluster(b, 5)
	var ds []time.Duration
	i := 0
	for b.Loop() {
		src := rand.IntN(len(nodes))
		start := time.Now()
		rec := nodes[src].publishFunction(fmt.Sprintf("fn-%d", i), fmt.Appendf(nil, "module %d", i), `{"routes":["/x"]}`)
		last := lastArrival(b, others(nodes, src), 30*time.Second, func(n *testNode) (time.Time, bool) { return n.reg.arrivedAt(rec) })
		ds = append(ds, last.Sub(start))
		i++
	}
	reportPercentiles(b, ds)
}

// BenchmarkPropagationKV: a KV write reaching every node of a 5-node
// cluster, inline (small) and announced and pulled (8 KiB).
func BenchmarkPropagationKV(b *testing.B) {
	for _, size := range []int{64, 8 << 10} {
		b.Run("value="+strconv.Itoa(size), func(b *testing.B) {
			nodes := benchCluster(b, 5)
			value := make([]byte, size)
			var ds []time.Duration
			i := 0
			for b.Loop() {
				src := rand.IntN(len(nodes))
				start := time.Now()
				ch := nodes[src].kv.put("bench", fmt.Sprintf("k-%d", i), value)
				last := lastArrival(b, others(nodes, src), 30*time.Second, func(n *testNode) (time.Time, bool) { return n.kv.arrivedAt(ch) })
				ds = append(ds, last.Sub(start))
				i++
			}
			reportPercentiles(b, ds)
		})
	}
}

// BenchmarkFailureDetection: time from a node's crash (Shutdown without
// Leave) until every other node of a 5-node cluster reports it dead.
// Each trial replaces the crashed node with a fresh one.
func BenchmarkFailureDetection(b *testing.B) {
	nodes := benchCluster(b, 5)
	var ds []time.Duration
	i := 0
	for b.Loop() {
		victim := nodes[len(nodes)-1]
		rest := nodes[:len(nodes)-1]
		start := time.Now()
		_ = victim.c.Shutdown()
		deadline := start.Add(60 * time.Second)
		for {
			all := true
			for _, n := range rest {
				if memberState(n, victim.name) != StateDead {
					all = false
					break
				}
			}
			if all {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("failure not detected within 60s")
			}
			time.Sleep(time.Millisecond)
		}
		ds = append(ds, time.Since(start))
		b.StopTimer()
		i++
		fresh := startNode(b, fmt.Sprintf("fresh-%d", i), func(c *Config) { c.Preset = benchPreset() })
		if _, err := fresh.c.Join([]string{rest[0].c.Addr()}); err != nil {
			b.Fatal(err)
		}
		nodes = append(rest, fresh)
		waitMembers(b, nodes, len(nodes))
		b.StartTimer()
	}
	reportPercentiles(b, ds)
}

// startSimNode is a test node without blob fetching (records in the
// simulation name no blob). Its HTTP server stays: anti-entropy pulls
// KV records over it.
func startSimNode(b *testing.B, name string) *testNode {
	return startNode(b, name, func(c *Config) {
		c.Preset = benchPreset()
		c.Tuning.TCPTimeout = 10 * time.Second // hundreds of nodes share this process's CPU
	})
}

// BenchmarkSimulation measures propagation time against cluster size
// with in-process nodes: a function record (inline, no blob) and a
// small KV write. Sizes 10, 25 and 50 by default; WEDGE_CLUSTER_SIM=1
// adds 100 and 200, or set it to a comma-separated list of sizes.
func BenchmarkSimulation(b *testing.B) {
	sizes := []int{10, 25, 50}
	switch v := os.Getenv("WEDGE_CLUSTER_SIM"); v {
	case "":
	case "1":
		sizes = append(sizes, 100, 200)
	default:
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 2 {
				b.Fatalf("WEDGE_CLUSTER_SIM=%q: want 1 or a list of sizes", v)
			}
			sizes = append(sizes, n)
		}
	}
	for _, size := range sizes {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			nodes := make([]*testNode, size)
			start := time.Now()
			for i := range nodes {
				nodes[i] = startSimNode(b, fmt.Sprintf("sim-%03d", i))
				nodes[i].reg.setFetch(nil)
				if i > 0 {
					seeds := []string{nodes[0].c.Addr(), nodes[rand.IntN(i)].c.Addr()}
					var err error
					for range 3 {
						if _, err = nodes[i].c.Join(seeds); err == nil {
							break
						}
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.Logf("%d nodes started and joined in %v", size, time.Since(start).Round(time.Millisecond))
			lastLog := time.Now()
			eventually(b, 5*time.Minute, "full membership", func() bool {
				lo, hi := size, 0
				for _, n := range nodes {
					a := n.c.NumAlive()
					lo, hi = min(lo, a), max(hi, a)
				}
				if time.Since(lastLog) > 10*time.Second {
					b.Logf("membership after %v: every node sees between %d and %d alive", time.Since(start).Round(time.Second), lo, hi)
					lastLog = time.Now()
				}
				return lo == size && hi == size
			})
			b.Logf("full membership after %v", time.Since(start).Round(time.Millisecond))
			var fn, kvd []time.Duration
			i := 0
			for b.Loop() {
				src := rand.IntN(size)
				start := time.Now()
				rec := FunctionRecord{Name: fmt.Sprintf("fn-%d", i), SHA256: strings.Repeat("0", 64), Spec: []byte("{}"), Stamp: nodes[src].kv.clock.Now(), Node: nodes[src].name}
				nodes[src].reg.local(rec)
				nodes[src].c.PublishFunction(rec)
				last := lastArrival(b, others(nodes, src), time.Minute, func(n *testNode) (time.Time, bool) { return n.reg.arrivedAt(rec) })
				fn = append(fn, last.Sub(start))

				start = time.Now()
				ch := nodes[src].kv.put("sim", fmt.Sprintf("k-%d", i), []byte("value"))
				last = lastArrival(b, others(nodes, src), time.Minute, func(n *testNode) (time.Time, bool) { return n.kv.arrivedAt(ch) })
				kvd = append(kvd, last.Sub(start))
				if os.Getenv("WEDGE_CLUSTER_TRACE") != "" {
					b.Logf("trial %d: function %v, kv %v", i, fn[len(fn)-1], kvd[len(kvd)-1])
				}
				i++
			}
			reportPercentiles(b, fn)
			slices.Sort(kvd)
			kvPct := func(p float64) float64 { return float64(kvd[int(p*float64(len(kvd)-1))].Microseconds()) / 1000 }
			b.ReportMetric(kvPct(0.50), "kv-p50-ms")
			b.ReportMetric(kvPct(0.99), "kv-p99-ms")
			b.ReportMetric(float64(kvd[len(kvd)-1].Microseconds())/1000, "kv-max-ms")
		})
	}
}
