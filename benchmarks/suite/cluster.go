package suite

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/client"
)

// Names of the cluster scenario's report scenarios.
const (
	ClusterScenarioName    = "Cluster propagation"
	ClusterTrafficName     = "Gossip traffic"
	ClusterSimulationName  = "Cluster size (simulation)"
	clusterPropagationUnit = "nodes"
)

// Series of the cluster scenario.
const (
	SeriesDeploy    = "deploy"
	SeriesKVSmall   = "KV write, 64 B"
	SeriesKVLarge   = "KV write, 8 KiB"
	SeriesDetection = "failure detection"
	SeriesRejoin    = "rejoin"
	SeriesSent      = "gossip sent"
	SeriesReceived  = "gossip received"
	SeriesPeerHTTP  = "peer HTTP"
	SeriesSimFn     = "function record"
	SeriesSimKV     = "KV write"
)

// clusterScenario measures a local cluster of wedge processes joined by
// gossip (the "local" preset, encrypted): how long a deploy and a KV
// write take to reach every node, how long a crashed node takes to be
// declared dead and to rejoin, and how many bytes gossip moves per node,
// idle and under a steady KV write load. Then, in the full profile, it
// runs the in-process memberlist simulation (internal/cluster/bench_test.go) to
// show how propagation grows with cluster size.
type clusterScenario struct {
	mu     sync.Mutex
	env    *Env
	nodes  []*Node
	names  []string
	dirs   []string
	key    string
	seed   string   // gossip address of node 0, for joins
	gossip []string // each node's gossip address, kept across restarts

	prop, traffic, sim report.Scenario
	formed             time.Duration
	writeRate          float64 // achieved KV writes/s under load
	writeErrors        int64
	idleRepairs        float64 // anti-entropy repairs run by all nodes in each window
	loadRepairs        float64
	simLog             []string
}

func (s *clusterScenario) ID() string { return "cluster" }

func (s *clusterScenario) Plan(env *Env) ([]Step, error) {
	p := env.Plan()
	if p.ClusterNodes < 2 {
		return nil, nil
	}
	s.env = env
	s.prop = report.Scenario{Name: ClusterScenarioName, XLabel: clusterPropagationUnit, Metrics: []report.Metric{report.P50, report.P99, report.P999}}
	s.traffic = report.Scenario{Name: ClusterTrafficName, XLabel: "load", Metrics: []report.Metric{report.Throughput}, Unit: "bytes/s per node"}
	s.sim = report.Scenario{Name: ClusterSimulationName, XLabel: "nodes", Metrics: []report.Metric{report.P50, report.P99, report.P999}}
	if env.opts.Target != "" {
		env.note(ClusterScenarioName, "not run: it starts a cluster of its own, and a --target run only measures the given node")
		return nil, nil
	}
	var k [32]byte
	rand.Read(k[:])
	s.key = base64.StdEncoding.EncodeToString(k[:])
	n := p.ClusterNodes
	for i := range n {
		s.names = append(s.names, fmt.Sprintf("bench-%d", i))
		s.dirs = append(s.dirs, filepath.Join(env.workDir, fmt.Sprintf("cluster-%d", i)))
	}
	step := func(what string, est time.Duration, run func(context.Context) (string, error)) Step {
		return Step{Scenario: ClusterScenarioName, What: what, Estimate: est, Run: run}
	}
	trials := p.ClusterTrials
	steps := []Step{
		step(fmt.Sprintf("start %d nodes, join them (local preset, encrypted)", n), time.Duration(n)*400*time.Millisecond, s.start),
		step(fmt.Sprintf("deploy propagation, %s", plural(trials, "trial", "trials")), time.Duration(trials)*150*time.Millisecond,
			func(ctx context.Context) (string, error) { return s.deployTrials(ctx, trials) }),
		step(fmt.Sprintf("KV convergence, 64 B and 8 KiB, %s each", plural(trials, "trial", "trials")), time.Duration(trials)*200*time.Millisecond,
			func(ctx context.Context) (string, error) { return s.kvTrials(ctx, trials) }),
		{Scenario: ClusterTrafficName, What: fmt.Sprintf("gossip bytes, idle, %s", p.ClusterTrafficWindow), Estimate: p.ClusterTrafficWindow,
			Run: func(ctx context.Context) (string, error) { return s.trafficWindow(ctx, 0) }},
		{Scenario: ClusterTrafficName, What: fmt.Sprintf("gossip bytes, %d KV writes/s, %s", p.ClusterWriteRate, p.ClusterTrafficWindow), Estimate: p.ClusterTrafficWindow + time.Second,
			Run: func(ctx context.Context) (string, error) { return s.trafficWindow(ctx, p.ClusterWriteRate) }},
	}
	for i := range p.ClusterFailureTrials {
		steps = append(steps, step(fmt.Sprintf("kill -9 a node, detect, restart, rejoin (%d/%d)", i+1, p.ClusterFailureTrials), 4*time.Second,
			func(ctx context.Context) (string, error) { return s.failureTrial(ctx, 1+i%(n-1)) }))
	}
	steps = append(steps, step("stop the cluster", 500*time.Millisecond, s.stop))
	if len(p.ClusterSimSizes) == 0 {
		env.note(ClusterScenarioName, "the in-process simulation of larger clusters runs in the full profile only")
		return steps, nil
	}
	if _, err := env.sourceDir(); err != nil {
		env.note(ClusterSimulationName, "not run: it is a Go benchmark of the cluster package and needs the wedge source checkout: "+err.Error())
		return steps, nil
	}
	sizes := make([]string, len(p.ClusterSimSizes))
	var est time.Duration
	for i, n := range p.ClusterSimSizes {
		sizes[i] = strconv.Itoa(n)
		est += time.Duration(p.ClusterSimTrials)*(300*time.Millisecond+time.Duration(n)*2*time.Millisecond) + time.Duration(n)*20*time.Millisecond
	}
	steps = append(steps, Step{Scenario: ClusterSimulationName,
		What:     fmt.Sprintf("in-process simulation, %s nodes, %s each", strings.Join(sizes, "/"), plural(p.ClusterSimTrials, "trial", "trials")),
		Estimate: 20*time.Second + est,
		Run:      func(ctx context.Context) (string, error) { return s.simulate(ctx, sizes, p.ClusterSimTrials) }})
	return steps, nil
}

// node returns the running node i (nil when it is not running).
func (s *clusterScenario) node(i int) *Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.nodes) {
		return nil
	}
	return s.nodes[i]
}

func (s *clusterScenario) running() []*Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Node
	for _, n := range s.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// startNode starts cluster member i, joining node 0 (or, for node 0
// itself on a restart, node 1).
func (s *clusterScenario) startNode(ctx context.Context, i int, token string) (*Node, error) {
	addr := "127.0.0.1:0"
	if i < len(s.gossip) && s.gossip[i] != "" {
		addr = s.gossip[i] // a restart keeps its address, as a real node would
	}
	args := []string{"--gossip", addr, "--cluster-key", s.key, "--cluster-preset", "local", "--node-name", s.names[i]}
	if i > 0 && s.seed != "" {
		args = append(args, "--join", s.seed)
	}
	return s.env.StartNodeArgs(ctx, s.dirs[i], token, args...)
}

func (s *clusterScenario) start(ctx context.Context) (string, error) {
	begin := time.Now()
	first, err := s.startNode(ctx, 0, "")
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.nodes = append(s.nodes, first)
	s.mu.Unlock()
	ms, err := members(ctx, first)
	if err != nil {
		return "", err
	}
	for _, m := range ms {
		if m.Self {
			s.seed = m.Addr
		}
	}
	if s.seed == "" {
		return "", errors.New("node 0 does not report its gossip address")
	}
	for i := 1; i < len(s.names); i++ {
		n, err := s.startNode(ctx, i, "")
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		s.nodes = append(s.nodes, n)
		s.mu.Unlock()
	}
	if err := s.waitStates(ctx, 30*time.Second, func(name, state string) bool { return state == "alive" }); err != nil {
		return "", err
	}
	s.formed = time.Since(begin)
	s.gossip = make([]string, len(s.names))
	for i, n := range s.running() {
		ms, err := members(ctx, n)
		if err != nil {
			return "", err
		}
		for _, m := range ms {
			if m.Self {
				s.gossip[i] = m.Addr
			}
		}
	}
	return fmt.Sprintf("%d alive members on every node after %s", len(s.names), roundDuration(s.formed)), nil
}

// member is one entry of /v1/cluster/members.
type member struct {
	Name  string `json:"name"`
	Addr  string `json:"addr"`
	State string `json:"state"`
	Self  bool   `json:"self"`
}

func members(ctx context.Context, n *Node) ([]member, error) {
	var out struct {
		Members []member `json:"members"`
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := n.Client().Do(ctx, "GET", "/v1/cluster/members", nil, nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Members, nil
}

// waitStates waits until every running node reports every member name
// in a state ok accepts.
func (s *clusterScenario) waitStates(ctx context.Context, timeout time.Duration, ok func(name, state string) bool) error {
	deadline := time.Now().Add(timeout)
	for {
		bad := ""
		for _, n := range s.running() {
			ms, err := members(ctx, n)
			if err != nil {
				bad = err.Error()
				break
			}
			seen := map[string]string{}
			for _, m := range ms {
				seen[m.Name] = m.State
			}
			for _, name := range s.names {
				if !ok(name, seen[name]) {
					bad = fmt.Sprintf("a node sees %s as %q", name, seen[name])
					break
				}
			}
			if bad != "" {
				break
			}
		}
		if bad == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("membership did not settle within %v: %s", timeout, bad)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// pollClient polls nodes: short timeouts, kept-alive connections.
var pollClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}

// arrival waits until check holds on every node but the origin, checking
// each one every millisecond, and returns when the last one got there.
func arrival(ctx context.Context, nodes []*Node, origin int, timeout time.Duration, check func(*Node) bool) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	var last time.Time
	for i, n := range nodes {
		if i == origin {
			continue
		}
		for !check(n) {
			if time.Now().After(deadline) {
				return time.Time{}, fmt.Errorf("the change did not reach %s within %v", n.Public, timeout)
			}
			select {
			case <-ctx.Done():
				return time.Time{}, context.Cause(ctx)
			case <-time.After(time.Millisecond):
			}
		}
		last = time.Now()
	}
	return last, nil
}

// propagationModule is a WAT function answering body: a distinct module
// per trial, so every deploy moves a new blob.
func propagationModule(body string) ([]byte, error) {
	return wasmtime.Wat2Wasm(fmt.Sprintf(`(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) %q)
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (drop (call $write (i32.const 16) (i32.const %d)))
    (i32.const 0)))`, body, len(body)))
}

// servedLocally reports whether url answers 200 with body from the node
// itself (not forwarded to the origin while the module is installed).
func servedLocally(ctx context.Context, url, body string) bool {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return false
	}
	resp, err := pollClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == 200 && string(b) == body && resp.Header.Get("X-Wedge-Served-By") == ""
}

func (s *clusterScenario) deployTrials(ctx context.Context, trials int) (string, error) {
	nodes := s.running()
	if len(nodes) != len(s.names) {
		return "", ErrSkipped
	}
	var ds []time.Duration
	for t := range trials {
		origin := t % len(nodes)
		body := fmt.Sprintf("propagated %d\n", t)
		wasm, err := propagationModule(body)
		if err != nil {
			return "", err
		}
		route := fmt.Sprintf("/prop/%d", t)
		start := time.Now()
		if _, _, err := nodes[origin].Client().Deploy(ctx, fmt.Sprintf("prop-%d", t), wasm, client.DeployOptions{Routes: []string{route}}); err != nil {
			return "", err
		}
		last, err := arrival(ctx, nodes, origin, 30*time.Second, func(n *Node) bool { return servedLocally(ctx, n.Public+route, body) })
		if err != nil {
			return "", err
		}
		ds = append(ds, last.Sub(start))
	}
	smp := durationSample(ds)
	s.mu.Lock()
	s.prop.Add(SeriesDeploy, fmt.Sprint(len(nodes)), float64(len(nodes)), smp)
	s.mu.Unlock()
	return fmt.Sprintf("p50 %s, p99 %s", formatMicros(smp.P50), formatMicros(smp.P99)), nil
}

func (s *clusterScenario) kvTrials(ctx context.Context, trials int) (string, error) {
	nodes := s.running()
	if len(nodes) != len(s.names) {
		return "", ErrSkipped
	}
	var summary []string
	for _, size := range []struct {
		series string
		bytes  int
	}{{SeriesKVSmall, 64}, {SeriesKVLarge, 8 << 10}} {
		var ds []time.Duration
		for t := range trials {
			origin := t % len(nodes)
			key := fmt.Sprintf("k-%d-%d", size.bytes, t)
			value := []byte(strings.Repeat(strconv.Itoa(t%10), size.bytes))
			start := time.Now()
			if _, err := nodes[origin].Client().KVPut(ctx, "bench-cluster", key, value, client.KVPutOptions{}); err != nil {
				return "", err
			}
			last, err := arrival(ctx, nodes, origin, 30*time.Second, func(n *Node) bool {
				v, _, err := n.Client().KVGet(ctx, "bench-cluster", key)
				return err == nil && string(v) == string(value)
			})
			if err != nil {
				return "", err
			}
			ds = append(ds, last.Sub(start))
		}
		smp := durationSample(ds)
		s.mu.Lock()
		s.prop.Add(size.series, fmt.Sprint(len(nodes)), float64(len(nodes)), smp)
		s.mu.Unlock()
		summary = append(summary, fmt.Sprintf("%s: p50 %s", size.series, formatMicros(smp.P50)))
	}
	return strings.Join(summary, "; "), nil
}

// gossipCounters is what a node's /metrics says gossip moved so far.
type gossipCounters struct{ sent, received, peerHTTP, repairs float64 }

func scrapeGossip(ctx context.Context, n *Node) (gossipCounters, error) {
	m, err := n.Metrics(ctx)
	if err != nil {
		return gossipCounters{}, err
	}
	var c gossipCounters
	found := false
	for series, v := range m {
		switch {
		case strings.HasPrefix(series, "wedge_gossip_bytes_total{") && strings.Contains(series, `direction="sent"`):
			c.sent += v
			found = true
		case strings.HasPrefix(series, "wedge_gossip_bytes_total{") && strings.Contains(series, `direction="received"`):
			c.received += v
		case strings.HasPrefix(series, "wedge_peer_http_bytes_total{"):
			c.peerHTTP += v
		case series == "wedge_cluster_repairs_total":
			c.repairs = v
		}
	}
	if !found {
		return c, fmt.Errorf("%s/metrics has no wedge_gossip_bytes_total: is it a cluster member of this version?", n.Admin)
	}
	return c, nil
}

// trafficWindow measures gossip bytes per node over the plan's window,
// idle (rate 0) or while rate KV writes per second, spread over the
// nodes, run open loop.
func (s *clusterScenario) trafficWindow(ctx context.Context, rate int) (string, error) {
	nodes := s.running()
	if len(nodes) != len(s.names) {
		return "", ErrSkipped
	}
	window := s.env.Plan().ClusterTrafficWindow
	before := make([]gossipCounters, len(nodes))
	for i, n := range nodes {
		c, err := scrapeGossip(ctx, n)
		if err != nil {
			return "", err
		}
		before[i] = c
	}
	start := time.Now()
	var acked, failed atomic.Int64
	if rate > 0 {
		writeLoad(ctx, nodes, rate, window, &acked, &failed)
	} else {
		select {
		case <-ctx.Done():
			return "", context.Cause(ctx)
		case <-time.After(window):
		}
	}
	elapsed := time.Since(start).Seconds()
	config := "idle"
	if rate > 0 {
		config = fmt.Sprintf("%s KV writes/s", groupInt(float64(rate)))
	}
	var sent, recv, peer []float64
	repairs := 0.0
	for i, n := range nodes {
		c, err := scrapeGossip(ctx, n)
		if err != nil {
			return "", err
		}
		sent = append(sent, (c.sent-before[i].sent)/elapsed)
		recv = append(recv, (c.received-before[i].received)/elapsed)
		peer = append(peer, (c.peerHTTP-before[i].peerHTTP)/elapsed)
		repairs += c.repairs - before[i].repairs
	}
	s.mu.Lock()
	for i := range nodes {
		s.traffic.Add(SeriesSent, config, float64(rate), report.Sample{Throughput: sent[i]})
		s.traffic.Add(SeriesReceived, config, float64(rate), report.Sample{Throughput: recv[i]})
		s.traffic.Add(SeriesPeerHTTP, config, float64(rate), report.Sample{Throughput: peer[i]})
	}
	if rate > 0 {
		s.writeRate = float64(acked.Load()) / elapsed
		s.writeErrors = failed.Load()
		s.loadRepairs = repairs
	} else {
		s.idleRepairs = repairs
	}
	s.mu.Unlock()
	out := fmt.Sprintf("median node sent %s/s, received %s/s, %.0f repairs", kib(report.Median(sent)), kib(report.Median(recv)), repairs)
	if rate > 0 {
		out += fmt.Sprintf(" (%.0f writes/s acknowledged, %d failed)", float64(acked.Load())/elapsed, failed.Load())
	}
	return out, nil
}

// writeLoad puts rate 64-byte values per second for d, round-robin over
// nodes, open loop: a write is started on schedule whether or not the
// previous ones finished, with at most 256 in flight.
func writeLoad(ctx context.Context, nodes []*Node, rate int, d time.Duration, acked, failed *atomic.Int64) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	clients := make([]*client.Client, len(nodes))
	for i, n := range nodes {
		clients[i] = n.Client()
	}
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	value := []byte(strings.Repeat("v", 64))
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		default:
			failed.Add(1) // too far behind: counted, not queued
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer wcancel()
			if _, err := clients[i%len(clients)].KVPut(wctx, "bench-load", fmt.Sprintf("w-%d", i), value, client.KVPutOptions{}); err != nil {
				failed.Add(1)
				return
			}
			acked.Add(1)
		}(i)
	}
	wg.Wait()
}

// failureTrial kills node victim with SIGKILL, times until every other
// node reports it dead, restarts it on its data directory and times
// until every node reports it alive again.
func (s *clusterScenario) failureTrial(ctx context.Context, victim int) (string, error) {
	v := s.node(victim)
	if v == nil || len(s.running()) != len(s.names) {
		return "", ErrSkipped
	}
	token := v.Token
	killed := time.Now()
	if err := v.Kill(); err != nil {
		return "", err
	}
	s.mu.Lock()
	s.nodes[victim] = nil
	s.mu.Unlock()
	name := s.names[victim]
	if err := s.waitStates(ctx, 60*time.Second, func(n, state string) bool { return n != name || state == "dead" }); err != nil {
		return "", err
	}
	detected := time.Since(killed)
	restarted := time.Now()
	n, err := s.startNode(ctx, victim, token)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.nodes[victim] = n
	s.mu.Unlock()
	if err := s.waitStates(ctx, 60*time.Second, func(n, state string) bool { return state == "alive" }); err != nil {
		return "", err
	}
	rejoined := time.Since(restarted)
	x := float64(len(s.names))
	cfg := fmt.Sprint(len(s.names))
	s.mu.Lock()
	s.prop.Add(SeriesDetection, cfg, x, durationSample([]time.Duration{detected}))
	s.prop.Add(SeriesRejoin, cfg, x, durationSample([]time.Duration{rejoined}))
	s.mu.Unlock()
	return fmt.Sprintf("declared dead after %s; restarted and alive everywhere after %s", roundDuration(detected), roundDuration(rejoined)), nil
}

func (s *clusterScenario) stop(context.Context) (string, error) {
	var errs []error
	for _, n := range s.running() {
		errs = append(errs, n.Stop())
	}
	s.mu.Lock()
	s.nodes = nil
	s.mu.Unlock()
	return "", errors.Join(errs...)
}

// simulate runs BenchmarkSimulation of the cluster package (in-process
// memberlist nodes, no wedge processes) for sizes and parses its report.
func (s *clusterScenario) simulate(ctx context.Context, sizes []string, trials int) (string, error) {
	src, err := s.env.sourceDir()
	if err != nil {
		return "", err
	}
	cmd, err := s.env.command(ctx, nil, "go", "test", "-run", "^$", "-bench", "^BenchmarkSimulation$",
		"-benchtime", fmt.Sprintf("%dx", trials), "-timeout", "30m", "./internal/cluster/")
	if err != nil {
		return "", err
	}
	cmd.Dir = src
	cmd.Env = append(cmd.Environ(), "WEDGE_CLUSTER_SIM="+strings.Join(sizes, ","))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go test -bench Simulation ./internal/cluster/: %v\n%s", err, lastLines(string(out), 15))
	}
	rows := parseSimulation(string(out))
	if len(rows) == 0 {
		return "", fmt.Errorf("no results in the simulation's output:\n%s", lastLines(string(out), 15))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var done []string
	for _, r := range rows {
		cfg := strconv.Itoa(r.nodes)
		s.sim.Add(SeriesSimFn, cfg, float64(r.nodes), report.Sample{P50: r.p50 * 1000, P99: r.p99 * 1000, P999: r.max * 1000})
		s.sim.Add(SeriesSimKV, cfg, float64(r.nodes), report.Sample{P50: r.kvP50 * 1000, P99: r.kvP99 * 1000, P999: r.kvMax * 1000})
		done = append(done, fmt.Sprintf("%d nodes: p50 %.0f ms", r.nodes, r.p50))
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "full membership after") || strings.Contains(line, "timed out") {
			s.simLog = append(s.simLog, strings.TrimSpace(line))
		}
	}
	return strings.Join(done, ", "), nil
}

// simRow is one size of BenchmarkSimulation's report, in milliseconds.
type simRow struct {
	nodes                              int
	p50, p99, max, kvP50, kvP99, kvMax float64
}

// parseSimulation reads lines such as
//
//	BenchmarkSimulation/nodes=50-2  5  322940781 ns/op  181.1 kv-max-ms  146.3 kv-p50-ms  170.2 kv-p99-ms  333.7 max-ms  150.3 p50-ms  186.6 p99-ms
func parseSimulation(out string) []simRow {
	var rows []simRow
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkSimulation/nodes=") {
			continue
		}
		size := strings.TrimPrefix(f[0], "BenchmarkSimulation/nodes=")
		if i := strings.IndexByte(size, '-'); i >= 0 {
			size = size[:i]
		}
		n, err := strconv.Atoi(size)
		if err != nil {
			continue
		}
		r := simRow{nodes: n}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "p50-ms":
				r.p50 = v
			case "p99-ms":
				r.p99 = v
			case "max-ms":
				r.max = v
			case "kv-p50-ms":
				r.kvP50 = v
			case "kv-p99-ms":
				r.kvP99 = v
			case "kv-max-ms":
				r.kvMax = v
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// durationSample summarizes trials as one Sample: p50, p99 and the
// maximum (in the p99.9 slot), in microseconds.
func durationSample(ds []time.Duration) report.Sample {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	us := func(q float64) float64 { return float64(durationQuantile(sorted, q)) / float64(time.Microsecond) }
	return report.Sample{P50: us(0.5), P99: us(0.99), P999: us(1)}
}

func kib(b float64) string {
	if b < 1024 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.1f KiB", b/1024)
}

func (s *clusterScenario) Results() []report.Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil {
		return nil
	}
	p := s.env.Plan()
	prop := s.prop
	prop.Description = fmt.Sprintf("A local cluster of %d `wedge serve` processes on this machine (servers pinned like every server), "+
		"gossip encrypted with a cluster key, `--cluster-preset local` (probe every 250 ms, push/pull every 2 s). "+
		"Times are from the admin API call on one node (a different one each trial) until every other node has the change, "+
		"polled every millisecond: for a deploy, the route answering 200 with the new body from the node itself "+
		"(not forwarded to the origin while the module is fetched and compiled), so it includes the module fetch by sha256 and its compilation; "+
		"for a KV write, the admin API returning the new value; %s per change, the p99.9 column holds the slowest trial. "+
		"Failure detection is from SIGKILL until every survivor lists the node as dead; rejoin is from restarting it on its data "+
		"directory until every node lists it alive (%s). The cluster formed (every node seeing %d alive members) %s after the first start.",
		len(s.names), plural(p.ClusterTrials, "trial", "trials"), plural(p.ClusterFailureTrials, "trial", "trials"), len(s.names),
		orDash(s.formed, roundDuration))
	traffic := s.traffic
	traffic.Description = fmt.Sprintf("Bytes on the wire per node per second, from the nodes' `wedge_gossip_bytes_total` "+
		"(memberlist's UDP packets and TCP push/pull streams, after encryption, without IP/UDP/TCP headers) and "+
		"`wedge_peer_http_bytes_total` (node-to-node HTTP the node initiated: pulls of values too large for a gossip packet, "+
		"module fetches, anti-entropy repairs), over %s windows: idle, then while a generator puts %s 64-byte values per second "+
		"(distinct keys, round-robin over the nodes' admin APIs, open loop). Each node is one sample: the table shows the "+
		"median node and the spread across nodes.",
		p.ClusterTrafficWindow, groupInt(float64(p.ClusterWriteRate)))
	if s.writeRate > 0 {
		traffic.Description += fmt.Sprintf(" Under load, %.0f writes/s were acknowledged (%d failed or were dropped for being more than 256 behind). "+
			"The nodes ran %.0f anti-entropy repairs in all during the idle window and %.0f during the loaded one.",
			s.writeRate, s.writeErrors, s.idleRepairs, s.loadRepairs)
	}
	sim := s.sim
	sim.Description = fmt.Sprintf("BenchmarkSimulation of the cluster package (`go test -bench Simulation ./internal/cluster/`): "+
		"in-process memberlist nodes with in-memory registries and KV stores, all in one process on the load generator's CPU, "+
		"local preset. Per size, %s of a function record (inline, no module) and a small KV write, each from a random node, "+
		"timed until the last node applied it; the p99.9 column holds the slowest trial. "+
		"How it grows with size is the point: gossip reaches every node in O(log N) rounds.",
		plural(p.ClusterSimTrials, "trial", "trials"))
	if len(s.simLog) > 0 {
		sim.Description += "\n\nMembership: " + strings.Join(s.simLog, "; ") + "."
	}
	if len(p.ClusterSimSizes) == 0 {
		return []report.Scenario{prop, traffic}
	}
	return []report.Scenario{prop, traffic, sim}
}
