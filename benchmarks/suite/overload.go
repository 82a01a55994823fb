package suite

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/benchmarks/loadgen"
	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/examples"
)

// Report names of the overload scenario's two parts.
const (
	OverloadScenarioName = "Overload"
	FairnessScenarioName = "Fairness under a flood"
)

// Series of the fairness part.
const (
	SeriesFastAlone = "fast alone"
	SeriesFastFlood = "fast beside a flooded slow function"
)

// busyWAT spins for 2,000,000 iterations per request: a CPU-bound
// function (a few milliseconds).
const busyWAT = `(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "done")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (local $i i32)
    (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 2000000))))
    (drop (call $write (i32.const 0) (i32.const 4)))
    (i32.const 0)))`

// sleeperWAT sleeps 50 ms in poll_oneoff (an I/O-bound function).
const sleeperWAT = `(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 512) "slept")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 50000000))
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
    (drop (call $write (i32.const 512) (i32.const 5)))
    (i32.const 0)))`

// Fairness set-up: a node of 8 slots, the slow function flooded from
// many more connections than that, the fast one measured from a few.
const (
	fairnessLimit     = 8
	fairnessFlood     = 48
	fairnessFastConns = 4
)

// overloadScenario measures a node offered more than it can serve: for
// a fast and a CPU-heavy function, with the fixed and the adaptive
// concurrency limit, the closed-loop capacity first, then open-loop load
// at multiples of it (served throughput, shed share, latency of what is
// served) and how long the node takes to serve again once the heaviest
// load stops. Its fairness part measures a fast function's latency alone
// and beside a slow function flooded past the node's limit.
type overloadScenario struct {
	mu       sync.Mutex
	env      *Env
	sc       report.Scenario
	fair     report.Scenario
	cases    []*overloadCase
	fairNode *Node
	flood    loadgen.Result
	fairRuns int
}

// overloadCase is one function with one limit mode.
type overloadCase struct {
	fn, wat  string
	adaptive bool
	node     *Node
	capacity float64
	rows     []overloadRow
	recovery time.Duration
}

// overloadRow is one open-loop measurement.
type overloadRow struct {
	multiple float64
	res      loadgen.Result
}

func (c *overloadCase) series() string {
	if c.adaptive {
		return c.fn + ", adaptive limit"
	}
	return c.fn + ", fixed limit"
}

func (s *overloadScenario) ID() string { return "overload" }

func (s *overloadScenario) Plan(env *Env) ([]Step, error) {
	p := env.Plan()
	if len(p.OverloadMultiples) == 0 {
		return nil, nil
	}
	s.env = env
	s.sc = report.Scenario{Name: OverloadScenarioName, XLabel: "offered load (× capacity)"}
	s.fair = report.Scenario{Name: FairnessScenarioName, XLabel: "connections", Baseline: SeriesFastAlone,
		Metrics: []report.Metric{report.P50, report.P99, report.P999}}
	if env.opts.Target != "" {
		env.note(OverloadScenarioName, "not run: it starts nodes of its own, and a --target run only measures the given node")
		return nil, nil
	}
	window := p.OverloadWarmup + p.OverloadDuration + 100*time.Millisecond
	var steps []Step
	for _, fn := range []struct{ name, wat string }{{"fast", examples.HelloWAT}, {"cpu-heavy", busyWAT}} {
		for _, adaptive := range []bool{false, true} {
			c := &overloadCase{fn: fn.name, wat: fn.wat, adaptive: adaptive}
			s.cases = append(s.cases, c)
			label := c.series()
			steps = append(steps,
				Step{Scenario: OverloadScenarioName, What: label + ": start a node, deploy", Estimate: 1500 * time.Millisecond,
					Run: func(ctx context.Context) (string, error) { return s.start(ctx, c) }},
				Step{Scenario: OverloadScenarioName, What: label + ": capacity (closed loop, 16 connections)", Estimate: window,
					Run: func(ctx context.Context) (string, error) { return s.capacity(ctx, c) }})
			for i, x := range p.OverloadMultiples {
				last := i == len(p.OverloadMultiples)-1
				steps = append(steps, Step{Scenario: OverloadScenarioName,
					What:     fmt.Sprintf("%s: offered %gx capacity (open loop)", label, x),
					Estimate: p.OverloadDuration + 200*time.Millisecond,
					Run:      func(ctx context.Context) (string, error) { return s.offer(ctx, c, x, last) }})
			}
			steps = append(steps, Step{Scenario: OverloadScenarioName, What: label + ": stop the node", Estimate: 200 * time.Millisecond,
				Run: func(context.Context) (string, error) { return s.stop(c) }})
		}
	}
	steps = append(steps,
		Step{Scenario: FairnessScenarioName, What: fmt.Sprintf("start a node of %d slots, deploy a fast and a slow (50 ms) function", fairnessLimit),
			Estimate: 1500 * time.Millisecond, Run: s.startFair},
		Step{Scenario: FairnessScenarioName, What: fmt.Sprintf("fast alone, %d connections", fairnessFastConns), Estimate: window,
			Run: func(ctx context.Context) (string, error) { return s.measureFast(ctx, false) }},
		Step{Scenario: FairnessScenarioName, What: fmt.Sprintf("fast while %d connections flood the slow one", fairnessFlood), Estimate: window,
			Run: func(ctx context.Context) (string, error) { return s.measureFast(ctx, true) }},
		Step{Scenario: FairnessScenarioName, What: "stop the node", Estimate: 200 * time.Millisecond,
			Run: func(context.Context) (string, error) { return s.stopFair() }})
	env.addCleanup(s.stopAll)
	return steps, nil
}

func (s *overloadScenario) start(ctx context.Context, c *overloadCase) (string, error) {
	var extra []string
	if c.adaptive {
		extra = append(extra, "--adaptive")
	}
	dir := filepath.Join(s.env.workDir, "overload-"+strings.NewReplacer(", ", "-", " ", "-").Replace(c.series()))
	node, err := s.env.StartNodeArgs(ctx, dir, "", extra...)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	c.node = node
	s.mu.Unlock()
	wasm, err := wasmtime.Wat2Wasm(c.wat)
	if err == nil {
		_, _, err = node.Client().Deploy(ctx, c.fn, wasm, client.DeployOptions{Routes: []string{"/f"}})
	}
	if err != nil {
		return "", fmt.Errorf("deploying %s: %w", c.fn, err)
	}
	return "serving at " + node.Public + "/f", nil
}

func (s *overloadScenario) capacity(ctx context.Context, c *overloadCase) (string, error) {
	s.mu.Lock()
	node := c.node
	s.mu.Unlock()
	if node == nil {
		return "", ErrSkipped
	}
	p := s.env.Plan()
	res, err := s.env.Measure(ctx, loadgen.Config{URL: node.Public + "/f", Connections: 16, Warmup: p.OverloadWarmup,
		Duration: p.OverloadDuration, Timeout: measureTimeout})
	if err != nil {
		return "", err
	}
	if res.SuccessThroughput <= 0 {
		return "", fmt.Errorf("%w (%d requests, statuses %v)", errNoSuccess, res.Requests, res.StatusCodes)
	}
	s.mu.Lock()
	c.capacity = res.SuccessThroughput
	s.mu.Unlock()
	return fmt.Sprintf("%.0f req/s", res.SuccessThroughput), nil
}

// overloadTimeout bounds each request of an open-loop run: a request
// waiting longer counts as a timeout.
const overloadTimeout = 2 * time.Second

func (s *overloadScenario) offer(ctx context.Context, c *overloadCase, x float64, last bool) (string, error) {
	s.mu.Lock()
	node, capacity := c.node, c.capacity
	s.mu.Unlock()
	if node == nil || capacity <= 0 {
		return "", ErrSkipped
	}
	p := s.env.Plan()
	rate := capacity * x
	res, err := s.env.Measure(ctx, loadgen.Config{URL: node.Public + "/f", Connections: min(loadgen.MaxConnections, max(16, int(rate/200))),
		Rate: rate, Duration: p.OverloadDuration, Timeout: overloadTimeout})
	if err != nil {
		return "", err
	}
	var recovery time.Duration
	if last {
		// Recovery: the first request after the heaviest load, repeated
		// until it is served.
		if recovery, err = firstServed(ctx, node.Public+"/f"); err != nil {
			return "", fmt.Errorf("after %gx capacity: %w", x, err)
		}
	}
	s.mu.Lock()
	c.rows = append(c.rows, overloadRow{multiple: x, res: res})
	if last {
		c.recovery = recovery
	}
	if res.SuccessThroughput > 0 {
		s.sc.Add(c.series(), fmt.Sprintf("%gx", x), x, report.Sample{Throughput: res.SuccessThroughput,
			P50: res.Latency.P50, P99: res.Latency.P99, P999: res.Latency.P999})
	}
	s.mu.Unlock()
	summary := fmt.Sprintf("offered %.0f req/s, served %.0f req/s, shed %.1f%%, p99 %s", rate, res.SuccessThroughput,
		shedPercent(res), formatMicros(res.Latency.P99))
	if last {
		summary += ", served again after " + roundDuration(recovery)
	}
	return summary, nil
}

// firstServed sends GET url until it is answered 200 and returns how long
// that took; an error after 30 s.
func firstServed(ctx context.Context, url string) (time.Duration, error) {
	start := time.Now()
	hc := &http.Client{Timeout: 5 * time.Second}
	for time.Since(start) < 30*time.Second {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		if ctx.Err() != nil {
			return 0, context.Cause(ctx)
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("%s not served for 30 s", url)
}

func shedPercent(res loadgen.Result) float64 {
	return float64(res.StatusCodes[http.StatusServiceUnavailable]) / float64(max(res.Responses, 1)) * 100
}

func (s *overloadScenario) stop(c *overloadCase) (string, error) {
	s.mu.Lock()
	node := c.node
	c.node = nil
	s.mu.Unlock()
	if node == nil {
		return "", ErrSkipped
	}
	return "", node.Stop()
}

func (s *overloadScenario) startFair(ctx context.Context) (string, error) {
	node, err := s.env.StartNodeArgs(ctx, filepath.Join(s.env.workDir, "overload-fairness"), "",
		"--max-concurrency", fmt.Sprint(fairnessLimit), "--queue-wait", "100ms")
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.fairNode = node
	s.mu.Unlock()
	for _, f := range []struct{ name, wat string }{{"fast", examples.HelloWAT}, {"slow", sleeperWAT}} {
		wasm, err := wasmtime.Wat2Wasm(f.wat)
		if err == nil {
			_, _, err = node.Client().Deploy(ctx, f.name, wasm, client.DeployOptions{Routes: []string{"/" + f.name}})
		}
		if err != nil {
			return "", fmt.Errorf("deploying %s: %w", f.name, err)
		}
	}
	return "serving at " + node.Public, nil
}

// measureFast measures the fast function, alone or while the slow one is
// flooded (the flood starts first and outlasts the measurement).
func (s *overloadScenario) measureFast(ctx context.Context, flooded bool) (string, error) {
	s.mu.Lock()
	node := s.fairNode
	s.mu.Unlock()
	if node == nil {
		return "", ErrSkipped
	}
	p := s.env.Plan()
	series := SeriesFastAlone
	var flood chan loadgen.Result
	if flooded {
		series = SeriesFastFlood
		flood = make(chan loadgen.Result, 1)
		// The flood runs in this process beside the measurement, on the
		// generator's CPUs: it warms up while the measurement warms up.
		go func() {
			res, err := loadgen.Run(ctx, loadgen.Config{URL: node.Public + "/slow", Connections: fairnessFlood,
				Duration: 2*p.OverloadWarmup + p.OverloadDuration, Timeout: overloadTimeout})
			if err != nil {
				res = loadgen.Result{}
			}
			flood <- res
		}()
		time.Sleep(p.OverloadWarmup) // the flood fills the node's slots first
	}
	res, err := s.env.Measure(ctx, loadgen.Config{URL: node.Public + "/fast", Connections: fairnessFastConns,
		Warmup: p.OverloadWarmup, Duration: p.OverloadDuration, Timeout: measureTimeout})
	var fl loadgen.Result
	if flooded {
		fl = <-flood
	}
	if err != nil {
		return "", err
	}
	smp, summary, err := sampleOf(res)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.fair.Add(series, fmt.Sprint(fairnessFastConns), fairnessFastConns, smp)
	if flooded {
		s.flood = fl
		s.fairRuns++
	}
	s.mu.Unlock()
	if f := failures(res); f != "" {
		s.env.note(FairnessScenarioName, series+": "+f)
	}
	if flooded {
		summary += fmt.Sprintf("; slow: %.0f req/s served, %.0f%% shed", fl.SuccessThroughput, shedPercent(fl))
	}
	return summary, nil
}

func (s *overloadScenario) stopFair() (string, error) {
	s.mu.Lock()
	node := s.fairNode
	s.fairNode = nil
	s.mu.Unlock()
	if node == nil {
		return "", ErrSkipped
	}
	return "", node.Stop()
}

// stopAll stops what an interrupted session left running.
func (s *overloadScenario) stopAll() {
	for _, c := range s.cases {
		_, _ = s.stop(c)
	}
	_, _ = s.stopFair()
}

func (s *overloadScenario) Results() []report.Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil {
		return nil
	}
	p := s.env.Plan()
	sc := s.sc
	var b strings.Builder
	fmt.Fprintf(&b, "A node per function and limit mode (`wedge serve`, default limit: 8 slots per core; `--adaptive`: adjusted to latency). "+
		"Its capacity is measured first (closed loop, 16 connections, %s), then it is offered open-loop load at multiples of it, "+
		"%s each; throughput counts requests served (200), latencies are of those. Shed requests got 503; unsent ones were due "+
		"but the generator could not send them in time. \"Served again after\" is from the end of the heaviest load to the first "+
		"request answered 200. The fast function is the WAT hello; the CPU-heavy one spins 2,000,000 iterations per request.",
		p.OverloadDuration, p.OverloadDuration)
	b.WriteString("\n\n| Function | Limit | Capacity req/s | Offered | Offered req/s | Sent req/s | Served req/s | Shed % | p50 | p99 | Served again after |\n")
	b.WriteString("| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |\n")
	for _, c := range s.cases {
		mode := "fixed"
		if c.adaptive {
			mode = "adaptive"
		}
		for i, r := range c.rows {
			rec := ""
			if i == len(c.rows)-1 && c.recovery > 0 {
				rec = roundDuration(c.recovery)
			}
			sent := float64(r.res.Requests) / max(r.res.Duration.Seconds(), 1e-9)
			fmt.Fprintf(&b, "| %s | %s | %.0f | %gx | %.0f | %.0f | %.0f | %.1f | %s | %s | %s |\n", c.fn, mode, c.capacity, r.multiple,
				c.capacity*r.multiple, sent, r.res.SuccessThroughput, shedPercent(r.res), formatMicros(r.res.Latency.P50),
				formatMicros(r.res.Latency.P99), rec)
			if r.res.Unsent > 0 {
				s.env.note(OverloadScenarioName, fmt.Sprintf("%s at %gx: %s due requests were not sent in time (the generator fell behind)",
					c.series(), r.multiple, groupInt(float64(r.res.Unsent))))
			}
		}
	}
	sc.Description = strings.TrimSuffix(b.String(), "\n")
	fair := s.fair
	fair.Description = fmt.Sprintf("A node limited to %d slots (`--max-concurrency %d --queue-wait 100ms`) serves a fast function (the WAT hello) "+
		"and a slow one (sleeps 50 ms in poll_oneoff). The fast one is measured from %d connections (closed loop, %s), alone and "+
		"while %d connections flood the slow one, far past its share of the slots: the scheduler keeps the slow function to its "+
		"share, so the fast one should see little change.",
		fairnessLimit, fairnessLimit, fairnessFastConns, p.OverloadDuration, fairnessFlood)
	if s.fairRuns > 0 {
		fair.Description += fmt.Sprintf(" Under the flood the slow function served %.0f req/s and shed %.0f%% of its requests.",
			s.flood.SuccessThroughput, shedPercent(s.flood))
	}
	return []report.Scenario{sc, fair}
}
