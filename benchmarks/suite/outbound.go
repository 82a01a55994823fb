package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/benchmarks/loadgen"
	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/examples"
	"github.com/wedge-run/wedge/internal/benchguest"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
)

// OutboundScenarioName names the outbound-call scenario in reports.
const OutboundScenarioName = "Outbound HTTP call"

// Series of the outbound scenario.
const (
	// OutboundGuest is an invocation of a guest doing one GET through
	// the host calls (http_send, http_response_head, http_response_read,
	// http_close) and answering with the body.
	OutboundGuest = "guest-get"
	// OutboundInvokeOnly is an invocation of the WAT hello in the same
	// environment: the instance's cost without the call.
	OutboundInvokeOnly = "invoke-only"
	// OutboundNative is the same GET from Go through the node's
	// outbound.Client (allow-list, SSRF checks, metrics).
	OutboundNative = "native-outbound-client"
	// OutboundNetHTTP is the same GET through a plain net/http client.
	OutboundNetHTTP = "native-net/http"
)

var outboundSeries = []string{OutboundGuest, OutboundInvokeOnly, OutboundNative, OutboundNetHTTP}

// outboundBody is what the local destination answers.
const outboundBody = "pong"

// outboundScenario measures, in the wedge bench process, what one
// outbound HTTP call costs a guest against the same call from native Go,
// in the same run against the same local server on 127.0.0.1: an
// invocation doing one GET, an invocation doing nothing (its instance's
// cost), the GET through the node's outbound client, and through plain
// net/http. The per-call overhead of the host calls is
// guest-get − invoke-only − native-outbound-client.
type outboundScenario struct {
	mu      sync.Mutex
	env     *Env
	sc      report.Scenario
	nsPerOp map[string][]float64

	srv    *http.Server
	url    string
	engine *runtime.Engine
	client *outbound.Client
	policy *outbound.Policy
	renv   *runtime.Env
	fetch  *runtime.Module
	hello  *runtime.Module
	hc     *http.Client
}

func (s *outboundScenario) ID() string { return "outbound" }

func (s *outboundScenario) Plan(env *Env) ([]Step, error) {
	p := env.Plan()
	if p.OutboundRepetitions == 0 {
		return nil, nil
	}
	s.env = env
	s.nsPerOp = map[string][]float64{}
	s.sc = report.Scenario{Name: OutboundScenarioName, XLabel: "goroutines"}
	steps := []Step{{Scenario: OutboundScenarioName, Estimate: time.Second,
		What: "start a local HTTP server, compile the guests", Run: s.setup}}
	est := p.OutboundDuration*4/3 + 50*time.Millisecond
	for rep := range p.OutboundRepetitions {
		for _, series := range rotate(outboundSeries, rep) {
			steps = append(steps, Step{Scenario: OutboundScenarioName, Estimate: est,
				What: fmt.Sprintf("%s, one GET per call in a loop, run %d/%d", series, rep+1, p.OutboundRepetitions),
				Run:  func(ctx context.Context) (string, error) { return s.run(ctx, series) }})
		}
	}
	steps = append(steps, Step{Scenario: OutboundScenarioName, What: "stop the server, close the engine",
		Estimate: 100 * time.Millisecond, Run: func(context.Context) (string, error) { s.close(); return "", nil }})
	env.addCleanup(s.close)
	return steps, nil
}

func (s *outboundScenario) setup(ctx context.Context) (string, error) {
	s.env.applyPin()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, outboundBody)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	url := "http://" + ln.Addr().String() + "/"
	s.mu.Lock()
	s.srv, s.url = srv, url
	s.hc = &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	s.mu.Unlock()

	client, err := outbound.New(outbound.Config{})
	if err != nil {
		return "", err
	}
	allow, err := outbound.ParseAllowList([]string{strings.TrimSuffix(url, "/")})
	if err != nil {
		return "", err
	}
	pol := outbound.Policy{Function: "bench-outbound", Allow: allow}.WithDefaults()
	renv := runtime.NewEnv("bench-outbound", nil, runtime.Limits{})
	renv.Outbound, renv.OutboundPolicy = client, &pol
	engine, err := runtime.NewEngine(runtime.Config{})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.client, s.policy, s.renv, s.engine = client, &pol, renv, engine
	s.mu.Unlock()

	// The request lives in a data segment of a one-page guest, so its
	// instance costs what the WAT hello's does (internal/benchguest, the
	// guest BenchmarkOutboundCall in internal/runtime measures too).
	req := abi.EncodeOutboundRequest(nil, "GET", url, nil)
	fetchWasm, err := wasmtime.Wat2Wasm(benchguest.OutboundFetchWAT(req))
	if err != nil {
		return "", err
	}
	helloWasm, err := wasmtime.Wat2Wasm(examples.HelloWAT)
	if err != nil {
		return "", err
	}
	fetch, err := engine.Compile(fetchWasm)
	if err != nil {
		return "", err
	}
	hello, err := engine.Compile(helloWasm)
	if err != nil {
		fetch.Release()
		return "", err
	}
	s.mu.Lock()
	s.fetch, s.hello = fetch, hello
	s.mu.Unlock()
	// Check every series answers right before timing it.
	for _, series := range outboundSeries {
		if err := s.one(series); err != nil {
			return "", fmt.Errorf("%s: %w", series, err)
		}
	}
	return "serving " + url, nil
}

// one does one operation of series and checks its answer.
func (s *outboundScenario) one(series string) error {
	switch series {
	case OutboundGuest, OutboundInvokeOnly:
		mod, want := s.fetch, outboundBody
		if series == OutboundInvokeOnly {
			mod, want = s.hello, helloBody
		}
		c := runtime.NewCall()
		defer c.Release()
		c.Env = s.renv
		c.Head = append(c.Head[:0], microHead...)
		if err := mod.Invoke(c); err != nil {
			return err
		}
		if string(c.Output) != want {
			return fmt.Errorf("answered %q (status %d)", c.Output, c.Status)
		}
		return nil
	case OutboundNative:
		r, err := s.client.Do(context.Background(), s.policy, &outbound.Request{Method: "GET", URL: s.url})
		if err != nil {
			return err
		}
		defer r.Close()
		var buf [512]byte
		n, err := io.ReadFull(r, buf[:])
		if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) || string(buf[:n]) != outboundBody {
			return fmt.Errorf("read %q, %v", buf[:n], err)
		}
		return nil
	case OutboundNetHTTP:
		resp, err := s.hc.Get(s.url)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != outboundBody {
			return fmt.Errorf("read %q, %v", b, err)
		}
		return nil
	}
	return fmt.Errorf("unknown series %q", series)
}

// run does series in a loop: a third of OutboundDuration as warmup, then
// OutboundDuration timed, every operation timed for the percentiles.
func (s *outboundScenario) run(ctx context.Context, series string) (string, error) {
	s.mu.Lock()
	ready := s.fetch != nil
	s.mu.Unlock()
	if !ready {
		return "", ErrSkipped
	}
	s.env.applyPin()
	d := s.env.Plan().OutboundDuration
	if _, _, err := s.loop(ctx, series, d/3, nil); err != nil {
		return "", err
	}
	h := loadgen.NewHistogram()
	n, took, err := s.loop(ctx, series, d, h)
	if err != nil {
		return "", err
	}
	lat := h.Summary()
	ns := float64(took.Nanoseconds()) / float64(n)
	s.mu.Lock()
	s.sc.Add(series, "1", 1, report.Sample{Throughput: float64(n) / took.Seconds(), P50: lat.P50, P99: lat.P99, P999: lat.P999})
	s.nsPerOp[series] = append(s.nsPerOp[series], ns)
	s.mu.Unlock()
	return fmt.Sprintf("%.0f ns/op (%d calls), p50 %.1f µs, p99 %.1f µs", ns, n, lat.P50, lat.P99), nil
}

func (s *outboundScenario) loop(ctx context.Context, series string, d time.Duration, h *loadgen.Histogram) (int64, time.Duration, error) {
	start := time.Now()
	end := start.Add(d)
	last := start
	var n int64
	for {
		if err := s.one(series); err != nil {
			return n, 0, fmt.Errorf("call %d: %w", n+1, err)
		}
		n++
		now := time.Now()
		if h != nil {
			h.Record(now.Sub(last))
		}
		last = now
		if !now.Before(end) {
			return n, now.Sub(start), nil
		}
		if n%256 == 0 && ctx.Err() != nil {
			return n, 0, context.Cause(ctx)
		}
	}
}

func (s *outboundScenario) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fetch != nil {
		s.fetch.Release()
		s.fetch = nil
	}
	if s.hello != nil {
		s.hello.Release()
		s.hello = nil
	}
	if s.engine != nil {
		s.engine.Close()
		s.engine = nil
	}
	if s.client != nil {
		s.client.CloseIdle()
		s.client = nil
	}
	if s.hc != nil {
		s.hc.CloseIdleConnections()
	}
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// OutboundOverhead returns the median per-call overhead of the host
// calls, guest-get − invoke-only − native-outbound-client in ns, from the
// medians of the runs; ok is false when a series is missing.
func outboundOverhead(nsPerOp map[string][]float64) (overhead float64, ok bool) {
	med := map[string]float64{}
	for _, series := range []string{OutboundGuest, OutboundInvokeOnly, OutboundNative} {
		xs := nsPerOp[series]
		if len(xs) == 0 {
			return 0, false
		}
		med[series] = report.Summarize(xs).Median
	}
	return med[OutboundGuest] - med[OutboundInvokeOnly] - med[OutboundNative], true
}

func (s *outboundScenario) Results() []report.Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil {
		return nil
	}
	sc := s.sc
	sc.Series = orderSeries(sc.Series, outboundSeries)
	p := s.env.Plan()
	var b strings.Builder
	fmt.Fprintf(&b, "One outbound HTTP GET (a 4-byte answer, keep-alive) to a net/http server on 127.0.0.1 in the "+
		"`wedge bench` process, one goroutine, in the same run: **%s** is `runtime.Module.Invoke` of a WAT guest "+
		"doing the GET through the host calls (`http_send`, `http_response_head`, `http_response_read`, `http_close`) "+
		"and answering with the body; **%s** is the WAT hello in the same environment (the instance's cost); "+
		"**%s** is the GET from Go through the node's outbound client (allow-list, SSRF checks, metrics); "+
		"**%s** is the GET through a plain `net/http` client. The server shares the CPUs with the caller, so "+
		"every figure includes its side of the exchange. Each run: %s warmup, then %s timed; %s per series.\n\n",
		OutboundGuest, OutboundInvokeOnly, OutboundNative, OutboundNetHTTP,
		(p.OutboundDuration / 3).Round(time.Millisecond), p.OutboundDuration, plural(p.OutboundRepetitions, "run", "runs"))
	b.WriteString("| Series | ns/op (median) | min | max |\n| --- | --: | --: | --: |\n")
	for _, s2 := range sc.Series {
		sum := report.Summarize(s.nsPerOp[s2.Name])
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s2.Name, groupInt(sum.Median), groupInt(sum.Min), groupInt(sum.Max))
	}
	if o, ok := outboundOverhead(s.nsPerOp); ok {
		fmt.Fprintf(&b, "\nPer-call overhead of the host calls (%s − %s − %s, medians): **%s ns**.\n",
			OutboundGuest, OutboundInvokeOnly, OutboundNative, groupInt(o))
	}
	sc.Description = strings.TrimSuffix(b.String(), "\n")
	return []report.Scenario{sc}
}
