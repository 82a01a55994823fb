package node_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/cluster"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// counterGuest reads the 8-byte counter "count" of its namespace, spins
// a while, and writes it back plus one, without a version check: the
// read-modify-write that loses updates as soon as two nodes run it for
// the same key, or one runs it on a stale replica.
func counterGuest(t testing.TB) []byte {
	return testutil.WAT(t, `(module
	  (import "wedge_v1" "kv_get" (func $kvget (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
	  (import "wedge_v1" "kv_put" (func $kvput (param i32 i32 i32 i32 i32 i32 i64 i64) (result i64)))
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (data (i32.const 0) "count")
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (local $v i64) (local $i i32)
	    (if (i32.eq (call $kvget (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5) (i32.const 64) (i32.const 8) (i32.const 0)) (i32.const 8))
	      (then (local.set $v (i64.load (i32.const 64)))))
	    (loop $spin
	      (local.set $i (i32.add (local.get $i) (i32.const 1)))
	      (br_if $spin (i32.lt_u (local.get $i) (i32.const 2000000))))
	    (i64.store (i32.const 64) (i64.add (local.get $v) (i64.const 1)))
	    (if (i64.lt_s (call $kvput (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5) (i32.const 64) (i32.const 8) (i64.const 0) (i64.const -1)) (i64.const 0))
	      (then unreachable))
	    (drop (call $write (i32.const 0) (i32.const 5)))
	    (i32.const 0)))`)
}

// handedTwiceKey returns a key of function that n1 owns alone, n2 once
// it serves the function too, and n3 once all three do: it changes
// owner at both hand-overs.
func handedTwiceKey(function string) string {
	for i := 0; ; i++ {
		k := fmt.Sprint("k", i)
		if cluster.OwnerOf(function+"/"+k, []string{"n1", "n2"}) == "n2" && cluster.OwnerOf(function+"/"+k, []string{"n1", "n2", "n3"}) == "n3" {
			return k
		}
	}
}

// TestHandoverKeepsOneWriter: a counter under affinity, incremented by
// a read-modify-write without a version check, is hammered through the
// three nodes while n2, then n3, finish installing the function and
// take its key over (n1 -> n2 -> n3). With the hand-over fence, the
// counter ends equal to the number of 2xx answers: no increment ran
// on a stale replica nor next to another node's.
func TestHandoverKeepsOneWriter(t *testing.T) {
	lost := handoverCounter(t)
	if lost != 0 {
		t.Fatalf("%d acknowledged increments lost across the hand-overs", lost)
	}
}

// TestHandoverWithoutFenceLosesWrites is the same load without the
// fence: it shows that the test above can fail. Increments are lost in
// most runs, not all (the race needs a request in flight at the
// hand-over), so the test only logs when none were.
func TestHandoverWithoutFenceLosesWrites(t *testing.T) {
	node.DisableHandoverFence(t)
	lost := handoverCounter(t)
	t.Logf("without the fence: %d acknowledged increments lost", lost)
	if lost < 0 {
		t.Fatalf("the counter is above the acknowledged increments by %d", -lost)
	}
}

// handoverCounter runs the hand-over load and returns the acknowledged
// increments minus the counter's final value.
func handoverCounter(t *testing.T) int64 {
	release := map[string]chan struct{}{"n2": make(chan struct{}), "n3": make(chan struct{})}
	held := make(chan string, 4)
	node.HoldInstallOn(t, func(nodeName, name string) {
		if name != "counter" {
			return
		}
		held <- nodeName
		select {
		case <-release[nodeName]:
		case <-time.After(60 * time.Second):
		}
	})
	var once sync.Once
	releaseAll := func() {
		once.Do(func() {
			for _, c := range release {
				select {
				case <-c:
				default:
					close(c)
				}
			}
		})
	}
	defer releaseAll()
	n1 := clusterNode(t, "n1", nil, testKey)
	n2 := clusterNode(t, "n2", n1, testKey)
	n3 := clusterNode(t, "n3", n1, testKey)
	nodes := []*node.Node{n1, n2, n3}
	testutil.Eventually(t, 5*time.Second, "3 alive members everywhere", func() bool {
		return alive(n1) == 3 && alive(n2) == 3 && alive(n3) == 3
	})
	// One request at a time per node: the single writer is then the
	// only thing between the increments.
	if _, _, err := testutil.Client(n1).Deploy(ctx, "counter", counterGuest(t), client.DeployOptions{
		Routes: []string{"/c/..."}, Affinity: "/c/*", MaxConcurrency: 1}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-held:
		case <-time.After(10 * time.Second):
			t.Fatal("the peers never started installing the function")
		}
	}
	key := handedTwiceKey("counter")
	h := startCounterLoad(t, key, 6, 5000, false, nodes...)
	h.waitAcked(20)
	close(release["n2"])
	ownersSettledAmong(t, "counter", nodes, n1, n2)
	h.waitAcked(h.acked.Load() + 20)
	close(release["n3"])
	ownersSettled(t, "counter", nodes...)
	h.waitAcked(h.acked.Load() + 20)
	h.finish()
	if o := owner(n1, "counter", key); o != "n3" {
		t.Fatalf("key %s ended on %s, want n3", key, o)
	}
	// The counter as every node holds it once replication settled.
	final := settledCounter(t, nodes...)
	t.Logf("%d increments acknowledged, %d refused with 503 during the hand-overs, counter %d", h.acked.Load(), h.refused.Load(), final)
	return h.acked.Load() - final
}

// TestHandoverAfterRestart: a node restarted with the function
// installed syncs with the node that kept its keys meanwhile before it
// owns them again: the increments taken while it was down and while it
// came back, under load, are not lost to its stale replica.
func TestHandoverAfterRestart(t *testing.T) {
	n1 := clusterNode(t, "n1", nil, testKey)
	dir2 := t.TempDir()
	start2 := func() *node.Node {
		return testutil.StartNode(t, dir2, func(c *node.Config) {
			c.NodeName = "n2"
			c.GossipAddr = "127.0.0.1:0"
			c.ClusterPreset = "local"
			c.ClusterKey = testKey
			c.Join = []string{n1.Cluster.Addr()}
		})
	}
	n2 := start2()
	testutil.Eventually(t, 5*time.Second, "2 alive members", func() bool { return alive(n1) == 2 && alive(n2) == 2 })
	if _, _, err := testutil.Client(n1).Deploy(ctx, "counter", counterGuest(t), client.DeployOptions{
		Routes: []string{"/c/..."}, Affinity: "/c/*", MaxConcurrency: 1}); err != nil {
		t.Fatal(err)
	}
	ownersSettled(t, "counter", n1, n2)
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprint("k", i); owner(n1, "counter", k) == "n2" {
			key = k
		}
	}
	h := startCounterLoad(t, key, 4, 20000, true, n1, n2)
	h.waitAcked(20)
	h.setTargets(n1)
	n2.Close()
	testutil.Eventually(t, 10*time.Second, "n1 alone", func() bool { return alive(n1) == 1 })
	h.waitAcked(h.acked.Load() + 30) // on n1 alone: n2's replica misses these
	// Quiet: n1 holds every increment acknowledged so far.
	h.paused.Store(true)
	testutil.Eventually(t, 30*time.Second, "no request in flight", func() bool { return h.inflight.Load() == 0 })
	if b, _, err := testutil.Client(n1).KVGet(ctx, "counter", "count"); err != nil || int64(binary.LittleEndian.Uint64(b)) != h.acked.Load() {
		t.Fatalf("before the restart: counter %v (%v), %d acknowledged", b, err, h.acked.Load())
	}
	h.paused.Store(false)
	n2 = start2()
	h.setTargets(n1, n2)
	testutil.Eventually(t, 10*time.Second, "n2 back", func() bool { return alive(n1) == 2 && alive(n2) == 2 })
	ownersSettled(t, "counter", n1, n2)
	h.waitAcked(h.acked.Load() + 30)
	h.finish()
	if o := owner(n1, "counter", key); o != "n2" {
		t.Fatalf("key %s owned by %s after the restart, want n2", key, o)
	}
	if final := settledCounter(t, n1, n2); final != h.acked.Load() {
		t.Fatalf("%d increments acknowledged, counter %d: the restarted node owned the key on a stale replica", h.acked.Load(), final)
	}
}

// counterLoad is the load of the hand-over tests: workers send increments of
// the counter at key through the nodes in targets, in turn, until
// finish, counting the 2xx answers (acked) and the 503s with Retry-After
// (refused, retried after a pause). Any other answer fails the test, as
// does a transport error unless nodeStops (a node being stopped refuses
// connections; the worker pauses and goes on).
type counterLoad struct {
	t                        *testing.T
	key                      string
	nodeStops                bool
	targets                  atomic.Pointer[[]string]
	acked, refused, inflight atomic.Int64
	paused                   atomic.Bool // workers idle while set
	bad                      atomic.Value
	stop                     chan struct{}
	wg                       sync.WaitGroup
}

// startCounterLoad starts workers, each sending at most perWorker requests.
func startCounterLoad(t *testing.T, key string, workers, perWorker int, nodeStops bool, nodes ...*node.Node) *counterLoad {
	h := &counterLoad{t: t, key: key, nodeStops: nodeStops, stop: make(chan struct{})}
	h.setTargets(nodes...)
	hc := &http.Client{Timeout: 30 * time.Second}
	for w := range workers {
		h.wg.Go(func() {
			for i := 0; i < perWorker; i++ {
				select {
				case <-h.stop:
					return
				default:
				}
				if h.paused.Load() {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				if !h.send(hc, w+i) {
					return
				}
			}
		})
	}
	t.Cleanup(h.finish)
	return h
}

// send sends one increment through the i-th target (modulo their
// number); false stops the worker.
func (h *counterLoad) send(hc *http.Client, i int) bool {
	h.inflight.Add(1)
	defer h.inflight.Add(-1)
	urls := *h.targets.Load()
	resp, err := hc.Get(urls[i%len(urls)] + "/c/" + h.key)
	if err != nil {
		if h.nodeStops {
			time.Sleep(5 * time.Millisecond)
			return true
		}
		h.bad.Store(err.Error())
		return false
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode == 200:
		h.acked.Add(1)
	case resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "":
		h.refused.Add(1)
		time.Sleep(5 * time.Millisecond)
	default:
		h.bad.Store(fmt.Sprintf("%d %s", resp.StatusCode, body))
		return false
	}
	return true
}

// setTargets makes the workers send through nodes from now on.
func (h *counterLoad) setTargets(nodes ...*node.Node) {
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.PublicURL())
	}
	h.targets.Store(&urls)
}

// waitAcked waits until n increments were acknowledged (or one failed).
func (h *counterLoad) waitAcked(n int64) {
	h.t.Helper()
	testutil.Eventually(h.t, 30*time.Second, "increments acknowledged", func() bool { return h.acked.Load() >= n || h.bad.Load() != nil })
}

// finish stops the workers, waits for them and fails the test if a
// request failed. It may be called more than once.
func (h *counterLoad) finish() {
	h.t.Helper()
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	h.wg.Wait()
	if b := h.bad.Load(); b != nil {
		h.t.Fatalf("a request failed: %v", b)
	}
}

// settledCounter waits until every node holds the same counter (once
// replication settled) and returns it.
func settledCounter(t *testing.T, nodes ...*node.Node) int64 {
	t.Helper()
	var final int64
	testutil.Eventually(t, 30*time.Second, "the counter the same on every node", func() bool {
		var vals []int64
		for _, n := range nodes {
			b, _, err := testutil.Client(n).KVGet(ctx, "counter", "count")
			if err != nil || len(b) != 8 {
				return false
			}
			vals = append(vals, int64(binary.LittleEndian.Uint64(b)))
		}
		final = vals[0]
		for _, v := range vals[1:] {
			if v != final {
				return false
			}
		}
		return true
	})
	return final
}
