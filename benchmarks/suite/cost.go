package suite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/internal/node"
	wregistry "github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/model"
)

// The per-request cost scenario (ID "cost"): where a node's CPU goes per
// request, for the WAT hello, a minimal WASI command and the Go SDK hello.
// A node runs inside this process; one connection of a closed-loop client
// in the same process sends GET requests for a window while the Go CPU
// profiler samples the whole process. Each sample is put in one bucket by
// the functions on its stack (costBuckets), the client's own samples are
// set aside, and the process's CPU time (getrusage) per request is split
// by the buckets' shares. Time in wasmtime's C code and in the kernel is
// attributed to the Go function that called into it (a cgo call's Go
// stack), which is what separates instantiation, the guest's run and the
// reset of its memory.

// CostScenarioName names the scenario in reports.
const CostScenarioName = "Per-request cost in a node"

// Buckets of node CPU, in table order.
const (
	CostHTTP        = "HTTP"        // fasthttp's server, sockets, routing
	CostAdmission   = "admission"   // the scheduler: slots, shares, queue-wait bound
	CostInstantiate = "instantiate" // store, instance (copy-on-write memory image), _initialize, CGI environment
	CostReset       = "reset"       // the store's teardown: the pooling allocator resets the instance's memory
	CostGuestCode   = "guest code"  // the guest's own run (wasmtime and JIT code between host calls)
	CostHostCalls   = "host calls"  // the wedge_v1 and WASI host functions (logging aside), CGI output parsing
	CostLogging     = "logging"     // function log lines (log host call, log store, stdout/stderr streams)
	CostGoRuntime   = "Go runtime"  // garbage collection, goroutine scheduling outside the above
	CostNative      = "C threads"   // threads Go did not start (the epoch ticker's, wasmtime's): no stack to attribute
	CostOther       = "other"       // the rest of the node's request path
	costClient      = "client"      // the load generator in this process: not node CPU
)

// CostBuckets lists the node buckets in table order.
var CostBuckets = []string{CostHTTP, CostAdmission, CostInstantiate, CostReset, CostGuestCode, CostHostCalls, CostLogging, CostGoRuntime, CostNative, CostOther}

// costRules map function-name fragments to buckets. A sample goes to the
// first bucket in this order that any function on its stack matches: the
// client first (it is not node CPU), logging inside a host call before
// the host call, a host call before the guest code below it, and so on.
var costRules = []struct {
	bucket string
	frags  []string
}{
	{costClient, []string{"suite.costDrive", "fasthttp.(*HostClient)", "fasthttp.(*Client)"}},
	{CostLogging, []string{"wedge/internal/logs.", "internal/runtime.logLine", "internal/runtime.(*Call).flushStreams", "internal/runtime.(*stream)"}},
	{CostHostCalls, []string{"internal/wasmpool.wasmpoolHostCall", "internal/runtime.(*Call).parseCGI"}},
	{CostReset, []string{"wasmtime-go/v39.(*Store).Close", "wasmtime-go/v39.(*Store).finalize"}},
	{CostInstantiate, []string{"internal/wasmpool.(*InstancePre).Instantiate", "wasmtime-go/v39.(*Linker).Instantiate",
		"wasmtime-go/v39.NewStore", "wasmtime-go/v39.(*Store).Limiter", "internal/runtime.(*Engine).setDeadline",
		"internal/wasmpool.LookupFunc", "internal/wasmpool.LookupMemory", "internal/runtime.(*Call).buildCGIEnv"}},
	{CostGuestCode, []string{"internal/wasmpool.Call", "internal/wasmpool.CallI32", "internal/wasmpool.fastCall"}},
	{CostAdmission, []string{"internal/gateway.(*Scheduler)", "internal/gateway.Ticket.Done", "internal/gateway.(*Adaptive)"}},
	{CostHTTP, []string{"valyala/fasthttp.", "net.", "internal/poll.", "syscall.", "internal/gateway."}},
	{CostNative, []string{"runtime._ExternalCode"}},
}

// costBucket returns the bucket of a stack (leaf first).
func costBucket(stack []string) string {
	for _, r := range costRules {
		for _, fn := range stack {
			for _, f := range r.frags {
				if strings.Contains(fn, f) {
					return r.bucket
				}
			}
		}
	}
	for _, fn := range stack {
		if !strings.HasPrefix(fn, "runtime.") && !strings.HasPrefix(fn, "runtime/") && !strings.HasPrefix(fn, "internal/runtime/") {
			return CostOther
		}
	}
	return CostGoRuntime
}

// CostGuest is one function the cost scenario measures.
type CostGuest struct {
	Name string // row name and route: /<Name>/...
	Wasm []byte
	Path string // requested after the route prefix, e.g. "/hello"
}

// CostRow is one guest's measured cost.
type CostRow struct {
	Guest    string
	Requests int64
	// NodeMicros is the node's CPU per request (µs), the sum of Buckets.
	NodeMicros float64
	// Buckets gives each bucket's CPU per request (µs).
	Buckets map[string]float64
	// ClientMicros is the in-process client's CPU per request, excluded.
	ClientMicros float64
	// Samples is the number of profile samples the split rests on.
	Samples int
}

// CostNode is a node in this process for cost measurements.
type CostNode struct {
	n *node.Node
	// ProfileHz, when above pprof's 100 Hz, samples faster (more samples
	// per request; the runtime then prints a harmless warning on stderr).
	ProfileHz int
}

// StartCostNode starts a node in this process with its data under dir;
// seed, if not nil, runs once it started (to link compiled artifacts in).
func StartCostNode(dir string, seed func(dataDir string) error) (*CostNode, error) {
	n, err := node.Start(context.Background(), node.Config{HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", DataDir: dir, AdminToken: "cost"})
	if err != nil {
		return nil, err
	}
	if seed != nil {
		if err := seed(dir); err != nil {
			n.Close()
			return nil, err
		}
	}
	return &CostNode{n: n}, nil
}

// Close stops the node.
func (c *CostNode) Close() error { return c.n.Close() }

// Deploy deploys g at /<g.Name>/....
func (c *CostNode) Deploy(g CostGuest) error {
	_, _, err := c.n.Registry.Deploy(context.Background(), wregistry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: g.Name, Routes: []string{"/" + g.Name + "/..."}}, Wasm: g.Wasm})
	return err
}

// Measure sends requests to g from one connection: a warmup, then under
// the CPU profiler for d or, when count > 0, count requests. Only one CPU
// profile may run in a process: it fails while another (go test
// -cpuprofile) runs.
func (c *CostNode) Measure(ctx context.Context, g CostGuest, d time.Duration, count int64) (CostRow, error) {
	addr := c.n.Gateway.PublicAddr()
	return costDrive(ctx, addr, "http://"+addr+"/"+g.Name+g.Path, g.Name, d, count, c.ProfileHz)
}

// MeasureCost starts a node in this process (data under dir), deploys
// the guests and measures each for d.
func MeasureCost(ctx context.Context, dir string, guests []CostGuest, d time.Duration, seed func(dataDir string) error) ([]CostRow, error) {
	c, err := StartCostNode(dir, seed)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var rows []CostRow
	for _, g := range guests {
		if err := c.Deploy(g); err != nil {
			return rows, fmt.Errorf("%s: deploy: %w", g.Name, err)
		}
		row, err := c.Measure(ctx, g, d, 0)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", g.Name, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

var costProfileMu sync.Mutex

// costDrive sends requests to url from one connection for a warmup and
// then d (or count requests) under the CPU profiler, and splits the CPU.
func costDrive(ctx context.Context, addr, url, name string, d time.Duration, count int64, hz int) (CostRow, error) {
	hc := &fasthttp.HostClient{Addr: addr, MaxConns: 1, ReadTimeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	loop := func(until time.Time, count int64) (int64, error) {
		var n int64
		for count > 0 && n < count || count <= 0 && time.Now().Before(until) {
			if err := hc.Do(req, resp); err != nil {
				return n, err
			}
			if resp.StatusCode() != 200 {
				return n, fmt.Errorf("GET %s: HTTP %d %q", url, resp.StatusCode(), resp.Body())
			}
			n++
			if n%256 == 0 && ctx.Err() != nil {
				return n, context.Cause(ctx)
			}
		}
		return n, nil
	}
	if _, err := loop(time.Now().Add(min(d/3, time.Second)), min(count/3, 1000)); err != nil {
		return CostRow{}, err
	}
	costProfileMu.Lock()
	defer costProfileMu.Unlock()
	var prof bytes.Buffer
	if hz > 100 {
		goruntime.SetCPUProfileRate(hz)
	}
	if err := pprof.StartCPUProfile(&prof); err != nil {
		return CostRow{}, fmt.Errorf("CPU profile: %w", err)
	}
	before := processCPU()
	n, err := loop(time.Now().Add(d), count)
	cpu := processCPU() - before
	pprof.StopCPUProfile()
	if err != nil {
		return CostRow{}, err
	}
	samples, err := readProfile(prof.Bytes())
	if err != nil {
		return CostRow{}, err
	}
	return splitCost(name, n, cpu, samples), nil
}

// splitCost divides cpu (over n requests) by the samples' buckets.
func splitCost(name string, n int64, cpu time.Duration, samples []profSample) CostRow {
	row := CostRow{Guest: name, Requests: n, Buckets: map[string]float64{}}
	var total int64
	per := map[string]int64{}
	for _, s := range samples {
		row.Samples += int(s.count)
		b := costBucket(s.stack)
		per[b] += s.value
		total += s.value
		if os.Getenv("WEDGE_COST_DEBUG") == b {
			fmt.Fprintf(os.Stderr, "%s %d: %s\n", name, s.value, strings.Join(s.stack, " < "))
		}
	}
	if n == 0 || total == 0 {
		return row
	}
	perReq := float64(cpu.Microseconds()) / float64(n)
	for b, v := range per {
		us := perReq * float64(v) / float64(total)
		if b == costClient {
			row.ClientMicros = us
			continue
		}
		row.Buckets[b] = us
		row.NodeMicros += us
	}
	return row
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CostTable renders rows as a markdown table: per guest the node's CPU
// per request, then each bucket's µs and share.
func CostTable(rows []CostRow) string {
	var b strings.Builder
	b.WriteString("| guest | requests | node CPU/request |")
	for _, k := range CostBuckets {
		b.WriteString(" " + k + " |")
	}
	b.WriteString(" client (excluded) |\n|---|--:|--:|")
	for range CostBuckets {
		b.WriteString("--:|")
	}
	b.WriteString("--:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %.1f µs |", r.Guest, r.Requests, r.NodeMicros)
		for _, k := range CostBuckets {
			v := r.Buckets[k]
			share := 0.0
			if r.NodeMicros > 0 {
				share = 100 * v / r.NodeMicros
			}
			fmt.Fprintf(&b, " %.1f (%.0f%%) |", v, share)
		}
		fmt.Fprintf(&b, " %.1f |\n", r.ClientMicros)
	}
	return b.String()
}

// WASICommandWAT is a minimal WASI command: _start writes a CGI answer,
// the hello body, to stdout with one fd_write.
const WASICommandWAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "Content-Type: text/plain; charset=utf-8\n\nhello from wedge\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 58))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`

// costScenario runs MeasureCost for the WAT hello, the WASI command and
// the Go SDK hello and reports the table in its description.
type costScenario struct {
	env  *Env
	rows []CostRow
	err  error
}

func (s *costScenario) ID() string { return "cost" }

func (s *costScenario) Plan(env *Env) ([]Step, error) {
	d := env.Plan().CostDuration
	if d <= 0 || env.opts.Target != "" {
		return nil, nil
	}
	s.env = env
	var steps []Step
	withGo := !env.opts.SkipGoHello && env.canBuild(artifactGoHello) == nil
	if withGo {
		steps = append(steps, env.buildStep(CostScenarioName, artifactGoHello)...)
	}
	guests := 2
	if withGo {
		guests++
	}
	steps = append(steps, Step{
		Scenario: CostScenarioName, Estimate: time.Duration(guests)*(d+d/3) + 2*time.Second,
		What: fmt.Sprintf("profile a node in process: %d guests, %s each", guests, d),
		Run: func(ctx context.Context) (string, error) {
			gs, err := s.guests(ctx, withGo)
			if err != nil {
				return "", err
			}
			s.env.applyPin()
			dir, err := os.MkdirTemp(s.env.workDir, "node-cost-")
			if err != nil {
				return "", err
			}
			s.rows, err = MeasureCost(ctx, dir, gs, d, s.env.seedArtifacts)
			if err != nil {
				return "", err
			}
			var parts []string
			for _, r := range s.rows {
				parts = append(parts, fmt.Sprintf("%s %.1f µs", r.Guest, r.NodeMicros))
			}
			return strings.Join(parts, ", "), nil
		},
	})
	return steps, nil
}

func (s *costScenario) guests(ctx context.Context, withGo bool) ([]CostGuest, error) {
	wat, err := s.env.HelloWasm()
	if err != nil {
		return nil, err
	}
	cmd, err := wasmtime.Wat2Wasm(WASICommandWAT)
	if err != nil {
		return nil, err
	}
	gs := []CostGuest{{Name: "wat-hello", Wasm: wat}, {Name: "wasi-command", Wasm: cmd}}
	if withGo {
		b, err := s.env.goHello(ctx)
		if err != nil {
			return nil, err
		}
		gs = append(gs, CostGuest{Name: "go-hello", Wasm: b})
	}
	return gs, nil
}

func (s *costScenario) Results() []report.Scenario {
	if s.env == nil {
		return nil
	}
	desc := "Where a node's CPU goes per request: a node inside the `wedge bench` process, one connection of a " +
		"closed-loop client in the same process, the Go CPU profiler over the window. Each sample goes to one bucket " +
		"by the functions on its stack (benchmarks/suite/cost.go); the client's samples are set aside; the process's " +
		"CPU time per request (getrusage) is split by the buckets' shares. Time in wasmtime's C code and in the kernel " +
		"counts for the Go function that called into it. Cells: µs of CPU per request (share of the node's). " +
		"Rough on a loaded machine: see the CPU notes of the HTTP scenario."
	if len(s.rows) > 0 {
		desc += "\n\n" + CostTable(s.rows)
	}
	return []report.Scenario{{Name: CostScenarioName, XLabel: "guest", Description: desc}}
}
