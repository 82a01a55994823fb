package suite

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wedge-run/wedge/benchmarks/loadgen"
	"github.com/wedge-run/wedge/benchmarks/report"
)

// HTTPScenarioName names the HTTP scenario in reports.
const HTTPScenarioName = "HTTP hello"

// measureTimeout bounds every request of a measurement and the drain at
// its end.
const measureTimeout = 5 * time.Second

// httpScenario measures every server of the HTTP scenario at every
// connection count, closed loop, with the repetitions interleaved: each
// round measures every (connections, server) pair once, in an order
// rotated from round to round, so slow drifts of the machine spread over
// all servers instead of landing on one.
type httpScenario struct {
	groups []*serverGroup // nil: Env.httpGroups

	mu   sync.Mutex
	env  *Env
	urls map[string]string
	sc   report.Scenario
	// busiest is the largest share of its CPUs the load generator used
	// while measuring each series, and at which connection count.
	busiest map[string]generatorLoad
	// tallies adds up the requests of every (series, connections) point,
	// failed ones by cause, over its runs.
	tallies map[pointKey]*tally
}

type pointKey struct {
	series string
	conns  int
}

type tally struct {
	runs, failedRuns int
	sum              loadgen.Result // Requests, StatusCodes and Errors summed
}

// count adds one run's requests to the tally of its point.
func (s *httpScenario) count(series string, conns int, res loadgen.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tallies == nil {
		s.tallies = map[pointKey]*tally{}
	}
	k := pointKey{series, conns}
	t := s.tallies[k]
	if t == nil {
		t = &tally{sum: loadgen.Result{StatusCodes: map[int]int64{}, Errors: map[string]int64{}}}
		s.tallies[k] = t
	}
	t.runs++
	if failures(res) != "" {
		t.failedRuns++
	}
	t.sum.Requests += res.Requests
	for code, n := range res.StatusCodes {
		t.sum.StatusCodes[code] += n
	}
	for kind, n := range res.Errors {
		t.sum.Errors[kind] += n
	}
}

// failureNotes describes, per series and connection count, the requests
// that failed.
func (s *httpScenario) failureNotes(series []report.Series) []string {
	var notes []string
	for _, sr := range series {
		for _, conns := range s.env.Plan().Connections {
			t := s.tallies[pointKey{sr.Name, conns}]
			if t == nil || t.failedRuns == 0 {
				continue
			}
			notes = append(notes, fmt.Sprintf("%s, %s: %s, in %d of %d runs", sr.Name,
				plural(conns, "connection", "connections"), failures(t.sum), t.failedRuns, t.runs))
		}
	}
	return notes
}

type generatorLoad struct {
	share float64
	conns int
}

// generatorBound is the share of its CPUs above which the load generator,
// rather than the server, may have set the pace.
const generatorBound = 0.9

// generatorBusy records that the generator kept cpus CPUs busy while
// measuring series at conns connections.
func (s *httpScenario) generatorBusy(series string, conns int, cpus float64) {
	have := len(s.env.generatorCPUs)
	if have == 0 {
		have = goruntime.NumCPU()
	}
	share := cpus / float64(have)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busiest == nil {
		s.busiest = map[string]generatorLoad{}
	}
	if share > s.busiest[series].share {
		s.busiest[series] = generatorLoad{share: share, conns: conns}
	}
}

func (s *httpScenario) ID() string { return "http" }

func (s *httpScenario) Plan(env *Env) ([]Step, error) {
	p := env.Plan()
	if len(p.Connections) == 0 {
		return nil, nil
	}
	s.env = env
	s.urls = map[string]string{}
	s.sc = report.Scenario{Name: HTTPScenarioName, XLabel: "connections", Description: httpDescription(p),
		Metrics: []report.Metric{report.Throughput, report.P50, report.P99, report.P999, report.Shed}}
	if s.groups == nil {
		s.groups = env.httpGroups(HTTPScenarioName)
	}
	var steps []Step
	var series []string
	for _, g := range s.groups {
		steps = append(steps, g.prepare...)
		series = append(series, g.series...)
	}
	for _, g := range s.groups {
		steps = append(steps, s.startStep(g))
	}
	est := p.Warmup + p.Duration + 100*time.Millisecond
	for rep := range p.Repetitions {
		for ci, conns := range p.Connections {
			for _, name := range rotate(series, rep*len(p.Connections)+ci) {
				steps = append(steps, Step{
					Scenario: HTTPScenarioName,
					What:     fmt.Sprintf("%s, %s, run %d/%d", name, plural(conns, "connection", "connections"), rep+1, p.Repetitions),
					Estimate: est,
					Run: func(ctx context.Context) (string, error) {
						return s.measure(ctx, name, conns)
					},
				})
			}
		}
	}
	for _, g := range s.groups {
		steps = append(steps, Step{
			Scenario: HTTPScenarioName, What: "stop " + g.name, Estimate: 200 * time.Millisecond,
			Run: func(ctx context.Context) (string, error) {
				if err := g.stop(); err != nil {
					return "", err
				}
				return "", nil
			},
		})
	}
	return steps, nil
}

// rotate returns xs rotated left by k.
func rotate(xs []string, k int) []string {
	if len(xs) == 0 {
		return nil
	}
	k %= len(xs)
	return append(slices.Clone(xs[k:]), xs[:k]...)
}

func (s *httpScenario) startStep(g *serverGroup) Step {
	return Step{
		Scenario: HTTPScenarioName, What: "start " + g.name, Estimate: g.estimate,
		Run: func(ctx context.Context) (string, error) {
			urls, failed := g.start(ctx)
			s.mu.Lock()
			for k, v := range urls {
				s.urls[k] = v
			}
			s.mu.Unlock()
			for _, name := range g.series {
				if err, ok := failed[name]; ok {
					s.env.fail(HTTPScenarioName, fmt.Sprintf("%s not measured: %v", name, err))
				}
			}
			if ctx.Err() != nil {
				return "", context.Cause(ctx)
			}
			var ok []string
			for _, name := range g.series {
				if urls[name] != "" {
					ok = append(ok, name+" at "+urls[name])
				}
			}
			if len(ok) == 0 {
				return "", noted(fmt.Errorf("%s: nothing started", g.name))
			}
			return strings.Join(ok, ", "), nil
		},
	}
}

// measure runs one repetition of series at conns connections.
func (s *httpScenario) measure(ctx context.Context, series string, conns int) (string, error) {
	s.mu.Lock()
	url := s.urls[series]
	s.mu.Unlock()
	if url == "" {
		return "", ErrSkipped
	}
	p := s.env.Plan()
	cpu0, cpuErr := selfCPU()
	start := time.Now()
	res, err := s.env.Measure(ctx, loadgen.Config{
		URL: url, Connections: conns, Warmup: p.Warmup, Duration: p.Duration, Timeout: measureTimeout,
	})
	if err != nil {
		return "", err
	}
	if cpu1, err := selfCPU(); err == nil && cpuErr == nil {
		s.generatorBusy(series, conns, (cpu1-cpu0).Seconds()/time.Since(start).Seconds())
	}
	sample, summary, err := sampleOf(res)
	s.count(series, conns, res)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.sc.Add(series, fmt.Sprint(conns), float64(conns), sample)
	s.mu.Unlock()
	return summary, nil
}

// errNoSuccess is returned for a measurement without a single 2xx answer.
var errNoSuccess = errors.New("no successful responses")

// sampleOf turns a load-generator result into a report sample: throughput
// and latency percentiles count 2xx responses only, so a server shedding
// load with fast errors does not look faster than it is; the share of the
// other answers goes beside them.
func sampleOf(res loadgen.Result) (report.Sample, string, error) {
	if res.SuccessThroughput <= 0 {
		return report.Sample{}, "", fmt.Errorf("%w (%d requests, statuses %v, errors %v)", errNoSuccess, res.Requests, res.StatusCodes, res.Errors)
	}
	smp := report.Sample{Throughput: res.SuccessThroughput, P50: res.Latency.P50, P99: res.Latency.P99, P999: res.Latency.P999,
		Shed: res.Shed * 100}
	return smp, fmt.Sprintf("%.0f req/s, p50 %s, p99 %s, p99.9 %s (2xx), %.1f%% non-2xx", smp.Throughput,
		formatMicros(smp.P50), formatMicros(smp.P99), formatMicros(smp.P999), smp.Shed), nil
}

// failures describes the requests of res that did not get a 2xx answer;
// "" when all did.
func failures(res loadgen.Result) string {
	var parts []string
	var codes []int
	for code, n := range res.StatusCodes {
		if (code < 200 || code > 299) && n > 0 {
			codes = append(codes, code)
		}
	}
	sort.Ints(codes)
	bad := res.ErrorCount()
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%s× HTTP %d", groupInt(float64(res.StatusCodes[c])), c))
		bad += res.StatusCodes[c]
	}
	var kinds []string
	for k, n := range res.Errors {
		if n > 0 {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s× %s", groupInt(float64(res.Errors[k])), k))
	}
	if bad == 0 {
		return ""
	}
	return fmt.Sprintf("%s of %s requests failed (%s)", groupInt(float64(bad)), groupInt(float64(res.Requests)), strings.Join(parts, ", "))
}

// formatMicros renders a latency given in microseconds.
func formatMicros(us float64) string {
	switch {
	case us >= 1000:
		return fmt.Sprintf("%.2f ms", us/1000)
	default:
		return fmt.Sprintf("%.0f µs", us)
	}
}

func (s *httpScenario) Results() []report.Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil {
		return nil
	}
	sc := s.sc
	sc.Series = orderSeries(sc.Series, AllSeries)
	if _, ok := sc.Lookup(SeriesFasthttp); ok {
		sc.Baseline = SeriesFasthttp
	}
	sc.Targets = targetsFor(sc, httpTargets())
	for _, n := range s.failureNotes(sc.Series) {
		s.env.note(HTTPScenarioName, n)
	}
	for _, series := range sc.Series {
		if l := s.busiest[series.Name]; l.share >= generatorBound {
			s.env.note(HTTPScenarioName, fmt.Sprintf("%s: the load generator used %.0f%% of its CPU (at %s): "+
				"the generator may have set the pace, and the server may be faster than measured",
				series.Name, 100*l.share, plural(l.conns, "connection", "connections")))
		}
	}
	return []report.Scenario{sc}
}

// orderSeries sorts series by their position in order; unknown names go
// last in their original order.
func orderSeries(series []report.Series, order []string) []report.Series {
	out := slices.Clone(series)
	pos := func(name string) int {
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b report.Series) int { return pos(a.Name) - pos(b.Name) })
	return out
}

func httpDescription(p Plan) string {
	return fmt.Sprintf("Every server answers GET with the same 17-byte body, `hello from wedge\\n`, but the SDK hellos. "+
		"**wedge-wat**, **wedge-go** and **wedge-js** are a wedge node running the WAT hello, the Go SDK hello "+
		"and workerd-js's very script on wedge's JavaScript engine, each in a fresh instance per request; "+
		"**wedge-wasi** the same node running a minimal WASI command (its `_start` writes a CGI answer with one `fd_write`); "+
		"**wedge-wat-traced** is the WAT hello on a second node started with `--trace-sample 1` "+
		"(every request a trace of four spans kept in the node's in-memory ring): beside wedge-wat, the cost of tracing on; "+
		"**wedge-c**, **wedge-rust** and **wedge-as** the same node running the C, Rust "+
		"and AssemblyScript SDK examples (sdk/<lang>/examples/hello) through their hello route, "+
		"`GET /<lang>-hello/hello?name=bench`, which answers `hello, bench\\n`; **fasthttp** and **net/http** are bare Go handlers "+
		"(benchmarks/cmd/baseline); **wazero** serves the WAT hello with wazero, a fresh instance per request, "+
		"over fasthttp (benchmarks/cmd/wazero-baseline); **workerd-js** and **workerd-wasm** are Cloudflare's "+
		"workerd with a JS fetch handler and with the WAT hello instantiated per request from JS. "+
		"Closed loop: each connection sends its next request when the previous answer arrived. "+
		"Each run: %s warmup, then %s measured; %s per server and connection count, interleaved across servers. "+
		"Throughput counts 2xx responses per second; the latency percentiles are those of the 2xx responses "+
		"(a fast 503 is not a served request), and Non-2xx gives the share of the other answers. "+
		"The targets below the table are those issues 15 and 17 set for wedge; a run lists those of the series it measured.",
		p.Warmup, p.Duration, plural(p.Repetitions, "run", "runs"))
}
