package suite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/benchmarks/loadgen"
	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/client"
)

// ScaleScenarioName names the deployed-functions scenario in reports.
const ScaleScenarioName = "Deployed functions"

// SeriesScale is the scenario's one series.
const SeriesScale = "wedge-wat"

// Estimates used to plan the scenario (measured on a 2-core machine): a
// deploy through the admin API takes a few milliseconds plus a little for
// every function already deployed (the registry copies its table).
const (
	deployEstimate         = 4 * time.Millisecond
	deployPerFunctionExtra = 3 * time.Microsecond
	restartEstimate        = time.Second
)

// deployTime estimates deploying n functions, one after the other.
func deployTime(n int) time.Duration {
	return time.Duration(n) * (deployEstimate + time.Duration(n/2)*deployPerFunctionExtra)
}

// scaleScenario measures a node serving many tiny functions: for each
// count N, a fresh node gets N distinct WAT functions on distinct routes
// through the admin API, is restarted (start-up time and memory with N
// functions), and then serves requests spread round-robin over all N
// routes.
type scaleScenario struct {
	mu     sync.Mutex
	env    *Env
	sc     report.Scenario
	counts map[int]*scaleCount
	order  []int
}

// scaleCount is what was measured once per function count.
type scaleCount struct {
	node      *Node
	token     string
	dataDir   string
	deploy    time.Duration
	startup   time.Duration
	rssIdle   int64
	rssLoaded int64
	// runs, failedRuns and failed (requests, statuses and transport
	// errors summed) describe the requests that failed.
	runs, failedRuns int
	failed           loadgen.Result
}

func (s *scaleScenario) ID() string { return "functions" }

func (s *scaleScenario) Plan(env *Env) ([]Step, error) {
	p := env.Plan()
	if len(p.FunctionCounts) == 0 {
		return nil, nil
	}
	s.env = env
	s.counts = map[int]*scaleCount{}
	s.sc = report.Scenario{Name: ScaleScenarioName, XLabel: "deployed functions"}
	if env.opts.Target != "" {
		env.note(ScaleScenarioName, "not run: it starts nodes of its own, and a --target run only measures the given node")
		return nil, nil
	}
	var steps []Step
	for _, n := range p.FunctionCounts {
		s.order = append(s.order, n)
		c := &scaleCount{dataDir: filepath.Join(env.workDir, fmt.Sprintf("node-functions-%d", n)),
			failed: loadgen.Result{StatusCodes: map[int]int64{}, Errors: map[string]int64{}}}
		s.counts[n] = c
		label := plural(n, "function", "functions")
		steps = append(steps,
			Step{Scenario: ScaleScenarioName, What: label + ": start a node, deploy them",
				Estimate: time.Second + deployTime(n),
				Run:      func(ctx context.Context) (string, error) { return s.deploy(ctx, n, c) }},
			Step{Scenario: ScaleScenarioName, What: label + ": restart the node (start-up time, memory)",
				Estimate: restartEstimate + time.Duration(n)*100*time.Microsecond,
				Run:      func(ctx context.Context) (string, error) { return s.restart(ctx, n, c) }})
		for rep := range p.ScaleRepetitions {
			steps = append(steps, Step{Scenario: ScaleScenarioName,
				What:     fmt.Sprintf("%s: requests spread over all of them, %s, run %d/%d", label, plural(p.ScaleConnections, "connection", "connections"), rep+1, p.ScaleRepetitions),
				Estimate: p.ScaleWarmup + p.ScaleDuration + 100*time.Millisecond,
				Run:      func(ctx context.Context) (string, error) { return s.measure(ctx, n, c) }})
		}
		steps = append(steps, Step{Scenario: ScaleScenarioName, What: label + ": memory after load, stop the node",
			Estimate: 300 * time.Millisecond,
			Run:      func(ctx context.Context) (string, error) { return s.stop(n, c) }})
	}
	return steps, nil
}

// functionWAT is function i of the scenario: the WAT hello with its own
// greeting, so every function is a distinct module with its own code.
func functionWAT(i int) string {
	msg := fmt.Sprintf("hello from fn-%05d\n", i)
	return fmt.Sprintf(`(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) %q)
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (drop (call $write (i32.const 16) (i32.const %d)))
    (i32.const 0)))`, msg, len(msg))
}

func functionName(i int) string  { return fmt.Sprintf("fn-%05d", i) }
func functionRoute(i int) string { return fmt.Sprintf("/fn/%05d", i) }

func (s *scaleScenario) deploy(ctx context.Context, n int, c *scaleCount) (string, error) {
	node, err := s.env.StartNode(ctx, c.dataDir, "")
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	c.node, c.token = node, node.Token
	s.mu.Unlock()
	start := time.Now()
	if err := deployFunctions(ctx, node.Client(), n, max(1, s.env.Plan().DeployConcurrency)); err != nil {
		return "", err
	}
	took := time.Since(start)
	s.mu.Lock()
	c.deploy = took
	s.mu.Unlock()
	return fmt.Sprintf("deployed in %s (%s per function)", roundDuration(took), roundDuration(took/time.Duration(n))), nil
}

// deployFunctions deploys functions 0..n-1 from conc goroutines.
func deployFunctions(ctx context.Context, cl *client.Client, n, conc int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for i := range next {
				wasm, err := wasmtime.Wat2Wasm(functionWAT(i))
				if err == nil {
					_, _, err = cl.Deploy(ctx, functionName(i), wasm, client.DeployOptions{Routes: []string{functionRoute(i)}})
				}
				if err != nil {
					cancel(fmt.Errorf("deploying %s: %w", functionName(i), err))
					return
				}
			}
		})
	}
	func() {
		defer close(next)
		for i := range n {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	return context.Cause(ctx)
}

func (s *scaleScenario) restart(ctx context.Context, n int, c *scaleCount) (string, error) {
	s.mu.Lock()
	node := c.node
	s.mu.Unlock()
	if node == nil {
		return "", ErrSkipped
	}
	if err := node.Stop(); err != nil {
		return "", err
	}
	node, err := s.env.StartNode(ctx, c.dataDir, c.token)
	s.mu.Lock()
	c.node = node
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	if node.Functions != n {
		return "", fmt.Errorf("the node serves %d functions after restart, want %d", node.Functions, n)
	}
	rss, err := node.RSS()
	if err != nil {
		return "", err
	}
	// Every function answers with its own greeting; check the last one.
	if err := checkAnswer(ctx, node.Public+functionRoute(n-1), fmt.Sprintf("hello from fn-%05d\n", n-1)); err != nil {
		return "", err
	}
	s.mu.Lock()
	c.startup, c.rssIdle = node.Startup, rss
	s.mu.Unlock()
	return fmt.Sprintf("started in %s, RSS %s", roundDuration(node.Startup), mib(rss)), nil
}

func (s *scaleScenario) measure(ctx context.Context, n int, c *scaleCount) (string, error) {
	s.mu.Lock()
	node := c.node
	s.mu.Unlock()
	if node == nil {
		return "", ErrSkipped
	}
	s.env.applyPin()
	p := s.env.Plan()
	paths := make([]string, n)
	for i := range paths {
		paths[i] = functionRoute(i)
	}
	res, err := spread(ctx, spreadConfig{Base: node.Public, Paths: paths, Connections: p.ScaleConnections,
		Warmup: p.ScaleWarmup, Duration: p.ScaleDuration, Timeout: measureTimeout})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	c.runs++
	c.failed.Requests += res.Requests
	if res.Requests > res.OK {
		c.failedRuns++
		for code, k := range res.Statuses {
			c.failed.StatusCodes[code] += k
		}
		c.failed.Errors["transport error"] += res.Errors
	}
	s.mu.Unlock()
	if res.OK == 0 {
		return "", fmt.Errorf("%w (%d requests)", errNoSuccess, res.Requests)
	}
	smp := report.Sample{Throughput: res.Throughput(), P50: res.Latency.P50, P99: res.Latency.P99, P999: res.Latency.P999}
	s.mu.Lock()
	s.sc.Add(SeriesScale, fmt.Sprint(n), float64(n), smp)
	s.mu.Unlock()
	return fmt.Sprintf("%.0f req/s, p50 %s, p99 %s", smp.Throughput, formatMicros(smp.P50), formatMicros(smp.P99)), nil
}

func (s *scaleScenario) stop(n int, c *scaleCount) (string, error) {
	s.mu.Lock()
	node := c.node
	c.node = nil
	s.mu.Unlock()
	if node == nil {
		return "", ErrSkipped
	}
	rss, rerr := node.RSS()
	if err := node.Stop(); err != nil {
		return "", err
	}
	// The data directory of 10,000 functions is large; free it now.
	_ = os.RemoveAll(c.dataDir)
	if rerr != nil {
		return "", rerr
	}
	s.mu.Lock()
	c.rssLoaded = rss
	s.mu.Unlock()
	return "RSS after load " + mib(rss), nil
}

func (s *scaleScenario) Results() []report.Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil {
		return nil
	}
	sc := s.sc
	p := s.env.Plan()
	var b strings.Builder
	fmt.Fprintf(&b, "A fresh node per count gets N distinct tiny WAT functions (the hello with its own greeting) "+
		"on distinct routes through the admin API (%s at a time), is restarted, and then serves requests "+
		"spread round-robin over all N routes: closed loop, %s, %s warmup then %s measured, %s per count. "+
		"Start-up is from starting `wedge serve` to the node reporting that it serves its N functions "+
		"(loaded from the artifact cache); RSS is the node's VmRSS right after that start and after the load. "+
		"Deploy, start-up and memory are measured once per count.",
		plural(max(1, p.DeployConcurrency), "deploy", "deploys"), plural(p.ScaleConnections, "connection", "connections"),
		p.ScaleWarmup, p.ScaleDuration, plural(p.ScaleRepetitions, "run", "runs"))
	if len(s.order) > 0 {
		b.WriteString("\n\n| Functions | Deploy (total) | Deploy (per function) | Start-up | RSS after start | RSS after load |\n")
		b.WriteString("| --: | --: | --: | --: | --: | --: |\n")
		for _, n := range s.order {
			c := s.counts[n]
			per := "—"
			if c.deploy > 0 {
				per = roundDuration(c.deploy / time.Duration(n))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", groupInt(float64(n)), orDash(c.deploy, roundDuration),
				per, orDash(c.startup, roundDuration), orDash(c.rssIdle, mib), orDash(c.rssLoaded, mib))
		}
	}
	sc.Description = strings.TrimSuffix(b.String(), "\n")
	for _, n := range s.order {
		if c := s.counts[n]; c.failedRuns > 0 {
			s.env.note(ScaleScenarioName, fmt.Sprintf("%s: %s, in %d of %d runs",
				plural(n, "function", "functions"), failures(c.failed), c.failedRuns, c.runs))
		}
	}
	return []report.Scenario{sc}
}

// orDash formats v, or "—" for the zero value.
func orDash[T comparable](v T, format func(T) string) string {
	var zero T
	if v == zero {
		return "—"
	}
	return format(v)
}

// mib renders a byte count in MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// roundDuration rounds d to three significant digits or so.
func roundDuration(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(100 * time.Nanosecond).String()
	}
}
