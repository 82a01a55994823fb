package benchmarks

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/kv"
	"github.com/wedge-run/wedge/node"
	"github.com/wedge-run/wedge/registry"
	"github.com/wedge-run/wedge/storage"
)

// countWAT counts its event deliveries in KV key "count".
const countWAT = `(module
  (import "wedge_v1" "kv_increment" (func $incr (param i32 i32 i32 i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "count")
  (func (export "wedge_event") (param i32) (result i32)
    (drop (call $incr (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 5) (i64.const 1) (i32.const 64)))
    (i32.const 0)))`

// TestEventLatency measures, in process, the time from an event's cause
// being acknowledged (a KV write, an upload, a publish) to the function
// having run, and the queue's throughput. A measurement: WEDGE_BENCH=1.
func TestEventLatency(t *testing.T) {
	if os.Getenv("WEDGE_BENCH") == "" {
		t.Skip("a measurement: set WEDGE_BENCH=1 to run it")
	}
	n := testutil.StartNode(t, "")
	wasm := testutil.WAT(t, countWAT)
	for _, d := range []struct {
		name string
		tr   storage.Trigger
	}{{"onkv", storage.Trigger{Kind: "kv", Namespace: "data"}}, {"onupload", storage.Trigger{Kind: "upload", Bucket: "b"}},
		{"onqueue", storage.Trigger{Kind: "queue", Queue: "q"}}, {"bulk", storage.Trigger{Kind: "queue", Queue: "bulk"}}} {
		if _, _, err := n.Registry.Deploy(registry.DeployRequest{Name: d.name, Wasm: wasm, Triggers: []storage.Trigger{d.tr}}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(fn string) int {
		e, err := n.KV.Get(fn, "count")
		if err != nil {
			return 0
		}
		v, _ := strconv.Atoi(string(e.Value))
		return v
	}
	measure := func(fn string, fire func(i int)) (p50, p99 time.Duration) {
		var ds []time.Duration
		for i := 0; i < 200; i++ {
			before := count(fn)
			start := time.Now()
			fire(i)
			for count(fn) == before && time.Since(start) < 5*time.Second {
				time.Sleep(50 * time.Microsecond)
			}
			ds = append(ds, time.Since(start))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2], ds[len(ds)*99/100]
	}
	report := "| trigger | p50 | p99 |\n|---|---|---|\n"
	p50, p99 := measure("onkv", func(i int) { n.KV.Put("data", fmt.Sprint("k", i), []byte("v"), kv.PutOptions{}) })
	report += fmt.Sprintf("| kv change | %v | %v |\n", p50.Round(time.Microsecond), p99.Round(time.Microsecond))
	p50, p99 = measure("onupload", func(i int) { n.Events.PutObject("b", fmt.Sprint("o", i), "text/plain", []byte("x")) })
	report += fmt.Sprintf("| upload | %v | %v |\n", p50.Round(time.Microsecond), p99.Round(time.Microsecond))
	p50, p99 = measure("onqueue", func(i int) { n.Events.Publish("q", []byte("m")) })
	report += fmt.Sprintf("| queue | %v | %v |\n", p50.Round(time.Microsecond), p99.Round(time.Microsecond))
	// Throughput: 5,000 messages from 16 publishers, delivered one per invocation.
	const total = 5000
	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < total; i += 16 {
				n.Events.Publish("bulk", []byte("m"))
			}
		}(g)
	}
	wg.Wait()
	published := time.Since(start)
	deadline := time.Now().Add(60 * time.Second)
	for count("bulk") < total && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	all := time.Since(start)
	report += fmt.Sprintf("\nqueue: %d messages published in %v (%.0f/s durable publishes), all delivered after %v (%.0f messages/s end to end)\n",
		total, published.Round(time.Millisecond), total/published.Seconds(), all.Round(time.Millisecond), float64(count("bulk"))/all.Seconds())
	t.Logf("\n%s", report)
	_ = node.Version
}
