package node_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// metric reads one unlabelled gauge from the node's /metrics.
func metric(t *testing.T, n *node.Node, name string) int64 {
	t.Helper()
	r := testutil.Do(t, "GET", n.AdminURL()+"/metrics", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	for _, line := range strings.Split(r.Body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", name, line)
			}
			return x
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// TestMemoryBudget gives a node a 512 MiB budget and two functions with a
// 200 MiB limit: however many requests arrive at once, at most two run
// (one each: a second of the same function would leave less than the
// quarter kept for others), the rest wait or get 503 with Retry-After,
// and the memory reserved never exceeds the budget. A function whose
// limit is larger than the budget gets a 503 that says so.
func TestMemoryBudget(t *testing.T) {
	const budget = 512 << 20
	n := testutil.StartNode(t, "", func(c *node.Config) { c.MaxConcurrency = 16; c.MemoryBudget = budget })
	cl := testutil.Client(n)
	for _, name := range []string{"big1", "big2"} {
		if _, _, err := cl.Deploy(ctx, name, sleeper(t, 30), client.DeployOptions{Routes: []string{"/" + name}, MemoryMB: 200}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := cl.Deploy(ctx, "huge", text(t, "huge"), client.DeployOptions{Routes: []string{"/huge"}, MemoryMB: 1024}); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, n, "wedge_memory_budget_bytes"); got != budget {
		t.Fatalf("wedge_memory_budget_bytes %d, want %d", got, budget)
	}

	// Watch the reserved memory while 2 x 12 clients hammer.
	var peak atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			peak.Store(max(peak.Load(), n.Invoke.Scheduler().Stats().MemoryReserved))
		}
	}()
	var wg sync.WaitGroup
	results := make([][]result, 2)
	for i, name := range []string{"big1", "big2"} {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = hammer(n.PublicURL()+"/"+name, 12, 240) }()
	}
	wg.Wait()
	close(stop)
	<-watched

	counts := map[int]int{}
	for _, rs := range results {
		for _, r := range rs {
			if r.err != nil {
				t.Fatalf("request failed: %v", r.err)
			}
			if r.status == 503 && r.retryAfter == "" {
				t.Fatal("503 without Retry-After")
			}
			counts[r.status]++
		}
	}
	st := n.Invoke.Scheduler().Stats()
	t.Logf("answers %v; most memory reserved %d MiB (scheduler) / %d MiB (sampled) of %d MiB; most in flight %d",
		counts, st.MemoryMaxSeen>>20, peak.Load()>>20, budget>>20, st.MaxSeen)
	if counts[200] == 0 || counts[503] == 0 || counts[200]+counts[503] != 480 {
		t.Fatalf("want 200s and 503s and nothing else: %v", counts)
	}
	if st.MemoryMaxSeen > budget || peak.Load() > budget {
		t.Fatalf("reserved %d bytes, over the %d budget", max(st.MemoryMaxSeen, peak.Load()), budget)
	}
	if st.MemoryMaxSeen != 400<<20 {
		t.Fatalf("most memory reserved %d MiB, want 400 (one invocation of each function)", st.MemoryMaxSeen>>20)
	}
	if got := metric(t, n, "wedge_memory_reserved_bytes"); got != 0 || st.InFlight != 0 {
		t.Fatalf("after the burst: %d bytes reserved, %d in flight", got, st.InFlight)
	}

	r := testutil.Get(t, n.PublicURL()+"/huge")
	if r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("a function over the budget: %d %q", r.Status, r.Body)
	}
	testutil.Contains(t, r.Body, `"huge"`, "1024 MiB", fmt.Sprintf("memory budget (%d MiB)", budget>>20))
	// The node still serves once the burst is over.
	if r := testutil.Get(t, n.PublicURL()+"/big1"); r.Status != 200 {
		t.Fatalf("after the burst: %d", r.Status)
	}
}
