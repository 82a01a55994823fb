package suite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/benchmarks/loadgen"
	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/internal/runtime"
)

// MicroScenarioName names the in-process scenario in reports.
const MicroScenarioName = "Invoke in process"

// Guests of the in-process scenario.
const (
	GuestWATHello = "wat-hello" // examples/hello-wat
	// GuestGoHello is examples/go-hello (Go SDK) as a node serves it:
	// pre-initialized at deploy, a snapshot taken after _initialize.
	GuestGoHello = "go-hello"
	// GuestGoHelloInit is the same module without the snapshot, running
	// _initialize (the Go runtime's start-up) in every call.
	GuestGoHelloInit = "go-hello-init"
)

// snapshotOf pre-initializes a reactor the way the registry does at
// deploy and compiles the snapshot.
func snapshotOf(engine *runtime.Engine, wasm []byte, name string) (*runtime.Module, error) {
	out, _, err := engine.Preinitialize(wasm, runtime.NewEnv(name, nil, runtime.Limits{}))
	if err != nil {
		return nil, err
	}
	return engine.Compile(out)
}

// microScenario times runtime.Module.Invoke — a new store, instantiation,
// _initialize when exported, the handler, teardown — in this process, one
// goroutine, for each example guest: the cost of wedge's
// fresh-instance-per-request model without any HTTP.
type microScenario struct {
	mu      sync.Mutex
	env     *Env
	engine  *runtime.Engine
	guests  map[string]*microGuest
	order   []string
	sc      report.Scenario
	nsPerOp map[string][]float64
}

type microGuest struct {
	mod  *runtime.Module
	env  *runtime.Env
	head []byte // the request head (microHead but for the SDK hellos)
	want string // the body it must answer
}

func (s *microScenario) ID() string { return "invoke" }

func (s *microScenario) Plan(env *Env) ([]Step, error) {
	p := env.Plan()
	if p.MicroRepetitions == 0 {
		return nil, nil
	}
	s.env = env
	s.guests = map[string]*microGuest{}
	s.nsPerOp = map[string][]float64{}
	s.sc = report.Scenario{Name: MicroScenarioName, XLabel: "goroutines"}
	s.order = []string{GuestWATHello}
	var steps []Step
	if !env.opts.SkipGoHello {
		if err := env.canBuild(artifactGoHello); err != nil {
			env.note(MicroScenarioName, fmt.Sprintf("%s not measured: %v", GuestGoHello, err))
		} else {
			s.order = append(s.order, GuestGoHello, GuestGoHelloInit)
		}
	}
	if slices.Contains(s.order, GuestGoHello) {
		steps = append(steps, env.buildStep(MicroScenarioName, artifactGoHello)...)
	}
	for _, h := range sdkHellos {
		if !env.want(h.series) { // --servers leaves out its HTTP series
			continue
		}
		if err := env.canBuild(h.artifact); err != nil {
			env.note(MicroScenarioName, fmt.Sprintf("%s not measured: %v", h.guest, err))
			continue
		}
		s.order = append(s.order, h.guest)
		steps = append(steps, env.buildStep(MicroScenarioName, h.artifact)...)
	}
	steps = append(steps, Step{
		Scenario: MicroScenarioName, What: "create an engine, compile " + strings.Join(s.order, ", "),
		Estimate: time.Second + time.Duration(len(s.order)-1)*2*time.Second,
		Run:      s.setup,
	})
	est := p.MicroDuration*4/3 + 50*time.Millisecond
	for rep := range p.MicroRepetitions {
		for _, g := range rotate(s.order, rep) {
			steps = append(steps, Step{
				Scenario: MicroScenarioName, Estimate: est,
				What: fmt.Sprintf("%s, Invoke in a loop, run %d/%d", g, rep+1, p.MicroRepetitions),
				Run:  func(ctx context.Context) (string, error) { return s.run(ctx, g) },
			})
		}
	}
	steps = append(steps, Step{
		Scenario: MicroScenarioName, What: "close the engine", Estimate: 100 * time.Millisecond,
		Run: func(context.Context) (string, error) { s.close(); return "", nil },
	})
	env.addCleanup(s.close)
	return steps, nil
}

func (s *microScenario) setup(ctx context.Context) (string, error) {
	// The Go guest was compiled into the session's artifact cache when it
	// was built; an engine of this build loads it from there (artifacts
	// are keyed by content and engine, anything else is compiled afresh).
	engine, err := runtime.NewEngine(runtime.Config{CacheDir: s.env.artifactsDir()})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.engine = engine
	s.mu.Unlock()
	var done []string
	add := func(g string, mod *runtime.Module) {
		rg := &microGuest{mod: mod, env: runtime.NewEnv(g, nil, runtime.Limits{}), head: microHead, want: helloBody}
		if h, ok := sdkHelloByGuest(g); ok {
			rg.head, rg.want = sdkHelloHead(h), sdkHelloBody
		}
		// Check the guest really answers before timing it.
		if out, err := invokeOnce(rg); err != nil || out != rg.want {
			mod.Release()
			s.env.fail(MicroScenarioName, fmt.Sprintf("%s not measured: answered %q, %v", g, out, err))
			return
		}
		s.mu.Lock()
		s.guests[g] = rg
		s.mu.Unlock()
		done = append(done, g)
	}
	for _, g := range s.order {
		var wasm []byte
		switch g {
		case GuestWATHello:
			wasm, err = s.env.HelloWasm()
		case GuestGoHello:
			wasm, err = s.env.goHello(ctx)
		case GuestGoHelloInit:
			continue // comes with GuestGoHello
		default:
			h, _ := sdkHelloByGuest(g)
			wasm, err = s.env.sdkHelloWasm(ctx, h)
		}
		var mod *runtime.Module
		if err == nil {
			mod, err = engine.Compile(wasm)
		}
		if err != nil {
			s.env.fail(MicroScenarioName, fmt.Sprintf("%s not measured: %v", g, err))
			continue
		}
		if !mod.HasInit {
			add(g, mod)
			continue
		}
		if g != GuestGoHello {
			// As a node serves it: from the deploy-time snapshot.
			snap, err := snapshotOf(engine, wasm, g)
			mod.Release()
			if err != nil {
				s.env.fail(MicroScenarioName, fmt.Sprintf("%s not measured: snapshot: %v", g, err))
				continue
			}
			add(g, snap)
			continue
		}
		// A node serves a reactor from a snapshot taken after its
		// _initialize ran once at deploy; measure that, and the original
		// running _initialize in every call.
		snap, err := snapshotOf(engine, wasm, g)
		if err != nil {
			s.env.fail(MicroScenarioName, fmt.Sprintf("%s: no snapshot (%v); measured as the original module", g, err))
			add(g, mod)
			continue
		}
		add(g, snap)
		if slices.Contains(s.order, GuestGoHelloInit) {
			add(GuestGoHelloInit, mod)
		} else {
			mod.Release()
		}
	}
	if len(done) == 0 {
		return "", errors.New("no guest could be compiled")
	}
	return "ready: " + strings.Join(done, ", "), nil
}

// microHead is the request head every in-process call gets (abi/README.md):
// GET /hello from a made-up client.
var microHead = func() []byte {
	var b []byte
	for _, s := range []string{"GET", "/hello", "127.0.0.1", "127.0.0.1:1", "bench", "/hello"} {
		b = abi.AppendString(b, s)
	}
	return abi.AppendU32(b, 0) // no headers
}()

func invokeOnce(g *microGuest) (string, error) {
	c := runtime.NewCall()
	defer c.Release()
	c.Env = g.env
	c.Head = append(c.Head[:0], g.head...)
	if err := g.mod.Invoke(c); err != nil {
		return "", err
	}
	if c.Status != 200 {
		return "", fmt.Errorf("status %d", c.Status)
	}
	return string(c.Output), nil
}

// run invokes guest g in a loop: a third of MicroDuration as warmup, then
// MicroDuration timed, every call timed on its own for the percentiles.
func (s *microScenario) run(ctx context.Context, g string) (string, error) {
	s.mu.Lock()
	guest := s.guests[g]
	s.mu.Unlock()
	if guest == nil {
		return "", ErrSkipped
	}
	s.env.applyPin()
	d := s.env.Plan().MicroDuration
	if _, _, err := invokeLoop(ctx, guest, d/3, nil); err != nil {
		return "", err
	}
	h := loadgen.NewHistogram()
	n, took, err := invokeLoop(ctx, guest, d, h)
	if err != nil {
		return "", err
	}
	lat := h.Summary()
	smp := report.Sample{Throughput: float64(n) / took.Seconds(), P50: lat.P50, P99: lat.P99, P999: lat.P999}
	ns := float64(took.Nanoseconds()) / float64(n)
	s.mu.Lock()
	s.sc.Add(g, "1", 1, smp)
	s.nsPerOp[g] = append(s.nsPerOp[g], ns)
	s.mu.Unlock()
	return fmt.Sprintf("%.0f ns/op (%d calls), p50 %.1f µs, p99 %.1f µs", ns, n, lat.P50, lat.P99), nil
}

// invokeLoop calls g until d has passed (checking the clock every call)
// and returns the number of calls and the time they took; h, if not nil,
// gets every call's duration.
func invokeLoop(ctx context.Context, g *microGuest, d time.Duration, h *loadgen.Histogram) (int64, time.Duration, error) {
	start := time.Now()
	end := start.Add(d)
	var n int64
	last := start
	for {
		c := runtime.NewCall()
		c.Env = g.env
		c.Head = append(c.Head[:0], g.head...)
		err := g.mod.Invoke(c)
		c.Release()
		if err != nil {
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
		if n%1024 == 0 && ctx.Err() != nil {
			return n, 0, context.Cause(ctx)
		}
	}
}

func (s *microScenario) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.guests {
		g.mod.Release()
	}
	s.guests = map[string]*microGuest{}
	if s.engine != nil {
		s.engine.Close()
		s.engine = nil
	}
}

func (s *microScenario) Results() []report.Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil {
		return nil
	}
	sc := s.sc
	sc.Series = orderSeries(sc.Series, []string{GuestWATHello, GuestGoHello, GuestGoHelloInit, GuestCHello, GuestRustHello, GuestASHello})
	p := s.env.Plan()
	var b strings.Builder
	fmt.Fprintf(&b, "`runtime.Module.Invoke` called in a loop in the `wedge bench` process, one goroutine, no HTTP: "+
		"a new store, instantiation, `_initialize` when exported, the handler (GET /hello), teardown. "+
		"**go-hello** is the Go SDK example as a node serves it, pre-initialized at deploy (a snapshot taken after "+
		"`_initialize` ran once); **go-hello-init** is the same module without the snapshot, running the Go "+
		"runtime's start-up in every call. "+
		"Each run: %s warmup, then %s timed; %s per guest. Throughput is calls per second; "+
		"the percentiles are of single calls.\n\n", (p.MicroDuration / 3).Round(time.Millisecond), p.MicroDuration, plural(p.MicroRepetitions, "run", "runs"))
	b.WriteString("| Guest | ns/op (median) | min | max |\n| --- | --: | --: | --: |\n")
	for _, s2 := range sc.Series {
		xs := s.nsPerOp[s2.Name]
		sum := report.Summarize(xs)
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s2.Name, groupInt(sum.Median), groupInt(sum.Min), groupInt(sum.Max))
	}
	sc.Description = strings.TrimSuffix(b.String(), "\n")
	return []report.Scenario{sc}
}

// groupInt renders v rounded, with thousands separators.
func groupInt(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var parts []string
	for len(s) > 3 {
		parts = append([]string{s[len(s)-3:]}, parts...)
		s = s[:len(s)-3]
	}
	parts = append([]string{s}, parts...)
	out := strings.Join(parts, ",")
	if neg {
		out = "-" + out
	}
	return out
}
