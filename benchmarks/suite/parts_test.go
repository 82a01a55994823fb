package suite

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/benchmarks/loadgen"
)

func TestSpreadHitsEveryPath(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		mu.Lock()
		hits[string(ctx.Path())]++
		mu.Unlock()
		if string(ctx.Path()) == "/p/7" {
			ctx.SetStatusCode(503)
		}
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })

	var paths []string
	for i := range 10 {
		paths = append(paths, "/p/"+string(rune('0'+i)))
	}
	began := time.Now()
	res, err := spread(t.Context(), spreadConfig{Base: "http://" + ln.Addr().String(), Paths: paths,
		Connections: 4, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The run ends (a liveness bound: its window is 250 ms; how long it
	// measured is checked below from its own Duration).
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("run took %v", took)
	}
	if res.Requests < 100 || res.Errors != 0 || res.Requests != res.Statuses[200]+res.Statuses[503] || res.OK != res.Statuses[200] {
		t.Fatalf("result %+v", res)
	}
	// Round robin: one in ten requests went to the path answering 503.
	if frac := float64(res.Statuses[503]) / float64(res.Requests); frac < 0.08 || frac > 0.12 {
		t.Errorf("503 fraction %.3f", frac)
	}
	mu.Lock()
	for _, p := range paths {
		if hits[p] < 10 {
			t.Errorf("%s hit %d times", p, hits[p])
		}
	}
	mu.Unlock()
	if res.Duration < 200*time.Millisecond || res.Throughput() <= 0 || res.Latency.P50 <= 0 || res.Latency.P99 < res.Latency.P50 {
		t.Errorf("duration %v throughput %v latency %+v", res.Duration, res.Throughput(), res.Latency)
	}
	if _, err := spread(t.Context(), spreadConfig{Base: "http://10.0.0.1:80", Paths: paths, Connections: 1, Duration: time.Second}); !errors.Is(err, ErrOptions) {
		t.Errorf("non-loopback base: %v", err)
	}
}

func TestParseRSS(t *testing.T) {
	rss, err := parseRSS(strings.NewReader("Name:\twedge\nVmPeak:\t  9000 kB\nVmRSS:\t   17816 kB\nThreads: 9\n"))
	if err != nil || rss != 17816<<10 {
		t.Errorf("rss %d, %v", rss, err)
	}
	if _, err := parseRSS(strings.NewReader("Name:\tx\n")); err == nil {
		t.Error("missing VmRSS accepted")
	}
	if rss, err := readRSS("/proc/self/status"); err == nil && rss <= 0 {
		t.Errorf("own rss %d", rss)
	}
}

func TestFunctionWAT(t *testing.T) {
	for _, i := range []int{0, 42, 9999} {
		if _, err := wasmtime.Wat2Wasm(functionWAT(i)); err != nil {
			t.Fatalf("function %d: %v", i, err)
		}
	}
	if functionName(42) != "fn-00042" || functionRoute(42) != "/fn/00042" {
		t.Error(functionName(42), functionRoute(42))
	}
}

func TestFailuresDescribesNon2xx(t *testing.T) {
	res := loadgen.Result{Requests: 110, StatusCodes: map[int]int64{200: 100, 204: 1, 503: 5, 500: 1},
		Errors: map[string]int64{loadgen.ErrKindTimeout: 2, loadgen.ErrKindConnectionReset: 1}}
	if got, want := failures(res), "9 of 110 requests failed (1× HTTP 500, 5× HTTP 503, 1× connection_reset, 2× timeout)"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := failures(loadgen.Result{Requests: 5, StatusCodes: map[int]int64{200: 5}}); got != "" {
		t.Errorf("clean result: %q", got)
	}
	if _, _, err := sampleOf(loadgen.Result{Requests: 5, StatusCodes: map[int]int64{503: 5}}); !errors.Is(err, errNoSuccess) {
		t.Errorf("all 503: %v", err)
	}
}

func TestWorkerdConfigAndDiscovery(t *testing.T) {
	conf := workerdConfig("127.0.0.1:1001", "127.0.0.1:1002")
	for _, want := range []string{`address = "127.0.0.1:1001"`, `address = "127.0.0.1:1002"`, `esModule = embed "worker.js"`,
		`wasm = embed "hello.wasm"`, `services = [ (name = "js", worker = .jsWorker), (name = "wasm", worker = .wasmWorker) ]`} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if conf := workerdConfig("127.0.0.1:1001", ""); strings.Contains(conf, "wasm") {
		t.Errorf("JS-only config mentions wasm:\n%s", conf)
	}
	dir := t.TempDir()
	if _, err := findWorkerd(dir); !errors.Is(err, ErrPeerMissing) {
		t.Errorf("empty dir: %v", err)
	}
	bin := filepath.Join(dir, "node_modules", ".bin", "workerd")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := findWorkerd(dir); err != nil || got != bin {
		t.Errorf("found %q, %v", got, err)
	}
	env := newEnv(Options{PeersDir: t.TempDir()}, QuickPlan(), t.TempDir())
	if err := env.workerdInstalled(); !errors.Is(err, ErrPeerMissing) {
		t.Errorf("workerdInstalled: %v", err)
	}
}

func TestFindSource(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module "+modulePath+"\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := findSource(deep); got != root {
		t.Errorf("findSource = %q, want %q", got, root)
	}
	if got := findSource(t.TempDir()); got != "" {
		t.Errorf("findSource outside a checkout = %q", got)
	}
	env := newEnv(Options{SourceDir: t.TempDir()}, QuickPlan(), t.TempDir())
	if err := env.canBuild(artifactBaseline); !errors.Is(err, ErrNoSource) {
		t.Errorf("canBuild without a checkout: %v", err)
	}
}

func TestFormatting(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.6: "1,234,568", -4321: "-4,321"} {
		if got := groupInt(v); got != want {
			t.Errorf("groupInt(%v) = %s, want %s", v, got, want)
		}
	}
	if got := mib(17816 << 10); got != "17.4 MiB" {
		t.Error(got)
	}
	if got := formatMicros(1234); got != "1.23 ms" {
		t.Error(got)
	}
	if got := roundDuration(4254321 * time.Microsecond); got != "4.25s" {
		t.Error(got)
	}
}

func TestCPUAccounting(t *testing.T) {
	busy, steal, cpus, err := parseProcStat("cpu  100 5 50 1000 20 3 2 10 0 0\ncpu0 50 2 25 500 10 1 1 5 0 0\ncpu1 50 3 25 500 10 2 1 5 0 0\nintr 5\n")
	if err != nil || busy != 100+5+50+3+2+10 || steal != 10 || cpus != 2 {
		t.Errorf("busy %d steal %d cpus %d, %v", busy, steal, cpus, err)
	}
	own, err := parseSelfStat("1234 (wedge (bench)) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 20 0 0")
	if err != nil || own != 11+12+13+14 {
		t.Errorf("own %d, %v", own, err)
	}
	t0 := time.Unix(0, 0)
	a := cpuSnapshot{at: t0, busy: 1000, steal: 10, own: 300}
	b := cpuSnapshot{at: t0.Add(10 * time.Second), busy: 2000, steal: 60, own: 1100}
	// 1000 ticks busy in 10s: 800 ours, 50 stolen, 150 others = 0.15 CPUs.
	if others, st := foreignLoad(a, b); others < 0.149 || others > 0.151 || st != 0.05 {
		t.Errorf("others %v steal %v", others, st)
	}
	if _, err := takeCPU(); err != nil {
		t.Log(err)
	}
}
