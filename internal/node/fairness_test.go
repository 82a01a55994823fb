package node_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestThreeLoopingFloodsDoNotStarveAFourth floods three functions with
// requests that loop until their time limit, far more than the node has
// slots, while a fourth function keeps being called: it must answer at
// least 95% of its requests, with a p99 far below the loopers' limit.
// Each function used to be allowed three quarters of the node, so two
// looping functions held every slot and the others got 503 until the
// loops timed out.
func TestThreeLoopingFloodsDoNotStarveAFourth(t *testing.T) {
	const loopLimit = 2 * time.Second
	n := testutil.StartNode(t, "", func(c *node.Config) { c.MaxConcurrency = 16 })
	cl := testutil.Client(n)
	loopers := []string{"loop1", "loop2", "loop3"}
	for _, name := range loopers {
		_, _, err := cl.Deploy(ctx, name, guest(t, "", `(loop $l (br $l)) (i32.const 0)`),
			client.DeployOptions{Routes: []string{"/" + name}, TimeoutMS: loopLimit.Milliseconds(), MemoryMB: 8})
		if err != nil {
			t.Fatal(err)
		}
	}
	deploy(t, n, "fine", text(t, "fine"), "/fine")

	// Two looper timeouts and a half: the first wave of loops, their
	// replacements, and part of a third.
	stop := time.Now().Add(loopLimit*5/2 + 200*time.Millisecond)
	var wg sync.WaitGroup
	var floodMu sync.Mutex
	floods := map[int]int{}
	for _, name := range loopers {
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hc := &http.Client{Timeout: 5 * loopLimit}
				for i := 0; i < 1000 && time.Now().Before(stop); i++ {
					resp, err := hc.Get(n.PublicURL() + "/" + name)
					if err != nil {
						continue
					}
					resp.Body.Close()
					floodMu.Lock()
					floods[resp.StatusCode]++
					floodMu.Unlock()
					if resp.StatusCode == http.StatusServiceUnavailable {
						time.Sleep(10 * time.Millisecond) // bounded retry pace
					}
				}
			}()
		}
	}
	time.Sleep(200 * time.Millisecond) // the floods take their slots first
	var mu sync.Mutex
	var fine []result
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * loopLimit}
			for i := 0; i < 2000 && time.Now().Before(stop); i++ {
				start := time.Now()
				resp, err := hc.Get(n.PublicURL() + "/fine")
				r := result{err: err, latency: time.Since(start)}
				if err == nil {
					r.status = resp.StatusCode
					resp.Body.Close()
				}
				mu.Lock()
				fine = append(fine, r)
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	wg.Wait()

	ok := 0
	for _, r := range fine {
		if r.status == 200 {
			ok++
		}
	}
	rate := float64(ok) / float64(max(1, len(fine)))
	p := p99(fine)
	st := n.Invoke.Scheduler().Stats()
	t.Logf("fourth function: %d/%d answered 200 (%.1f%%), p99 %v; floods: %v; max in flight %d of %d",
		ok, len(fine), 100*rate, p, floods, st.MaxSeen, st.Limit)
	if rate < 0.95 {
		t.Fatalf("the fourth function answered %.1f%% of its requests beside three looping floods, want >= 95%%", 100*rate)
	}
	if len(fine) < 50 {
		t.Fatalf("only %d requests to the fourth function", len(fine))
	}
	if limit := loopLimit / 2; p > limit { // generous: the twelve loops keep both cores busy
		t.Fatalf("the fourth function's p99 was %v beside three looping floods, want under %v", p, limit)
	}
	if floods[http.StatusGatewayTimeout] == 0 {
		t.Fatalf("the floods never ran a loop to its limit: %v", floods)
	}
	if st.MaxSeen > 16 {
		t.Fatalf("limit exceeded: %d in flight", st.MaxSeen)
	}
}
