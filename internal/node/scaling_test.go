package node_test

import (
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// sleeper returns a guest that sleeps ms milliseconds in poll_oneoff (an
// I/O-bound function) and answers "slept".
func sleeper(t testing.TB, ms int) []byte {
	return testutil.WAT(t, fmt.Sprintf(`(module
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (data (i32.const 512) "slept")
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (i32.store (i32.const 16) (i32.const 1))                ;; clock id: monotonic
	    (i64.store (i32.const 24) (i64.const %d))               ;; timeout, ns
	    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
	    (drop (call $write (i32.const 512) (i32.const 5)))
	    (i32.const 0)))`, ms*1_000_000))
}

type result struct {
	status     int
	retryAfter string
	latency    time.Duration
	err        error
}

// hammer sends n requests to url from c goroutines and returns every result.
func hammer(url string, c, n int) []result {
	out := make([]result, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c}}
	for g := 0; g < c; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				start := time.Now()
				resp, err := hc.Get(url)
				r := result{err: err, latency: time.Since(start)}
				if err == nil {
					r.status = resp.StatusCode
					r.retryAfter = resp.Header.Get("Retry-After")
					resp.Body.Close()
				}
				out[i] = r
			}
		}()
	}
	wg.Wait()
	return out
}

func p99(rs []result) time.Duration {
	var ds []time.Duration
	for _, r := range rs {
		if r.status == 200 {
			ds = append(ds, r.latency)
		}
	}
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)*99/100]
}

func TestHammerMixedFunctions(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) { c.MaxConcurrency = 8; c.QueueWait = 200 * time.Millisecond })
	deploy(t, n, "fast", text(t, "fast"), "/fast")
	deploy(t, n, "slow", sleeper(t, 5), "/slow")
	var wg sync.WaitGroup
	var fast, slow []result
	wg.Add(2)
	go func() { defer wg.Done(); fast = hammer(n.PublicURL()+"/fast", 32, 1500) }()
	go func() { defer wg.Done(); slow = hammer(n.PublicURL()+"/slow", 32, 500) }()
	wg.Wait()
	counts := map[int]int{}
	for _, rs := range [][]result{fast, slow} {
		for _, r := range rs {
			if r.err != nil {
				t.Fatalf("request lost: %v", r.err)
			}
			if r.status == 503 && r.retryAfter == "" {
				t.Fatal("503 without Retry-After")
			}
			if r.status != 200 && r.status != 503 {
				t.Fatalf("unexpected status %d", r.status)
			}
			counts[r.status]++
		}
	}
	st := n.Invoke.Scheduler().Stats()
	if st.InFlight != 0 || st.Queued != 0 {
		t.Fatalf("scheduler not drained: %+v", st)
	}
	if st.MaxSeen > 8 {
		t.Fatalf("limit exceeded: %d in flight at once", st.MaxSeen)
	}
	if int(st.Admitted) != counts[200] || int(st.Shed) != counts[503] {
		t.Fatalf("each request must be answered once: scheduler %d admitted/%d shed, clients saw %v", st.Admitted, st.Shed, counts)
	}
	if n.Engine.Stats().InstancesNow != 0 {
		t.Fatal("instances left alive")
	}
	t.Logf("responses: %v, max in flight %d", counts, st.MaxSeen)
}

// TestSlowFloodDoesNotStarveFastFunction floods a slow function with far
// more requests than the node has slots and checks, by the scheduler's
// state, that it never holds more than its share while the fast function
// is served. How the fast function's latency changes under the flood is
// measured by the benchmark suite (`wedge bench --only overload`), not
// bounded here: a p99 on 2 busy cores under -race is noise.
func TestSlowFloodDoesNotStarveFastFunction(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) { c.MaxConcurrency = 8; c.QueueWait = 100 * time.Millisecond })
	deploy(t, n, "fast", text(t, "fast"), "/fast")
	deploy(t, n, "slow", sleeper(t, 50), "/slow")
	baseline := p99(hammer(n.PublicURL()+"/fast", 4, 400))
	sched := n.Invoke.Scheduler()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 48; g++ { // far more slow requests than the node has slots
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 10 * time.Second}
			for i := 0; i < 200; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if resp, err := hc.Get(n.PublicURL() + "/slow"); err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	// The flood holds the slow function's whole share, with more waiting.
	// capAlone is its share while it is the only busy function: the most
	// it may ever hold. Its share shrinks when the fast function gets
	// busy too, so what it holds may exceed the shrunk share for the
	// time its running requests take to finish, but never capAlone.
	var capAlone int
	testutil.Eventually(t, 10*time.Second, "the slow function at its cap with requests queued", func() bool {
		f := sched.Stats().Functions["slow"]
		capAlone = f.Cap
		return f.Cap > 0 && f.InFlight == f.Cap && f.Queued > 0
	})
	// Watch the slow function's share while the fast one is hammered.
	watched := make(chan struct{})
	var overCap atomic.Int64
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if f := sched.Stats().Functions["slow"]; f.InFlight > capAlone {
				overCap.Store(int64(f.InFlight))
			}
			time.Sleep(time.Millisecond)
		}
	}()
	loaded := hammer(n.PublicURL()+"/fast", 4, 400)
	close(stop)
	wg.Wait()
	<-watched
	ok := 0
	for _, r := range loaded {
		if r.status == 200 {
			ok++
		}
	}
	underFlood := p99(loaded)
	t.Logf("fast p99 alone %v, under a slow flood %v (%d/400 ok)", baseline, underFlood, ok)
	if ok < 390 {
		t.Fatalf("fast function was shed under a slow flood: %d/400 ok", ok)
	}
	if n := overCap.Load(); n > 0 {
		t.Fatalf("the slow function held %d slots, more than its share of %d", n, capAlone)
	}
	if st := sched.Stats(); st.MaxSeen > 8 {
		t.Fatalf("%d in flight at once, limit 8", st.MaxSeen)
	}
}

func TestOverloadShedsFastAndRecovers(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) { c.MaxConcurrency = 4; c.QueueWait = 50 * time.Millisecond })
	deploy(t, n, "work", sleeper(t, 10), "/work")
	// Capacity: 4 slots / 10ms = 400 req/s. Offer ~10x with 80 clients.
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rs := hammer(n.PublicURL()+"/work", 80, 4000)
	var shed, ok int
	var worst503 time.Duration
	for _, r := range rs {
		switch {
		case r.err != nil:
			t.Fatalf("request failed: %v", r.err)
		case r.status == 200:
			ok++
		case r.status == 503:
			shed++
			if r.retryAfter == "" {
				t.Fatal("503 without Retry-After")
			}
			worst503 = max(worst503, r.latency)
		default:
			t.Fatalf("status %d", r.status)
		}
	}
	if shed == 0 || ok == 0 {
		t.Fatalf("expected both served and shed requests: ok=%d shed=%d", ok, shed)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grow := int64(after.HeapInuse) - int64(before.HeapInuse); grow > 64<<20 {
		t.Fatalf("heap grew by %d MiB under overload", grow>>20)
	}
	t.Logf("ok=%d shed=%d, slowest 503 %v, p99 of served %v", ok, shed, worst503, p99(rs))
	// Recovery: once the overload ends nothing is left queued or in
	// flight, and the next request is admitted at once (not queued) and
	// served. How long recovery takes is measured by the benchmark suite
	// (`wedge bench --only overload`).
	if st := n.Invoke.Scheduler().Stats(); st.InFlight != 0 || st.Queued != 0 {
		t.Fatalf("after overload: %+v", st)
	}
	shedBefore := n.Invoke.Scheduler().Stats().Shed
	if r := testutil.Get(t, n.PublicURL()+"/work"); r.Status != 200 {
		t.Fatalf("after overload: %d", r.Status)
	}
	if st := n.Invoke.Scheduler().Stats(); st.Shed != shedBefore {
		t.Fatalf("a request was shed after the overload ended: %+v", st)
	}
	if st := n.Invoke.Scheduler().Stats(); st.InFlight != 0 || st.Queued != 0 || st.MaxSeen > 4 {
		t.Fatalf("%+v", st)
	}
}

// TestPoolAtCapacity lets more requests in than the pooling allocator has
// instance slots: the extra ones get a clean 503, never a crash, and the
// node serves normally afterwards.
func TestPoolAtCapacity(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) {
		c.PoolInstances = 4
		c.MaxConcurrency = 32
		c.QueueWait = 100 * time.Millisecond
	})
	deploy(t, n, "slow", sleeper(t, 20), "/slow")
	rs := hammer(n.PublicURL()+"/slow", 24, 480)
	counts := map[int]int{}
	for _, r := range rs {
		if r.err != nil {
			t.Fatalf("request failed: %v", r.err)
		}
		if r.status == 503 && r.retryAfter == "" {
			t.Fatal("503 without Retry-After")
		}
		counts[r.status]++
	}
	if counts[200] == 0 || counts[503] == 0 || counts[200]+counts[503] != len(rs) {
		t.Fatalf("want both 200s and 503s and nothing else: %v", counts)
	}
	if r := testutil.Get(t, n.PublicURL()+"/slow"); r.Status != 200 {
		t.Fatalf("after the burst: %d", r.Status)
	}
	if st := n.Engine.Stats(); st.InstancesNow != 0 {
		t.Fatalf("%d instances alive", st.InstancesNow)
	}
	t.Logf("%v", counts)
}
