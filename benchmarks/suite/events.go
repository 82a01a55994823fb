package suite

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/node"
	fnregistry "github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/model"
)

// EventsScenarioName names the event-delivery scenario in reports.
const EventsScenarioName = "Event delivery"

// countWAT counts its event deliveries in its KV namespace, key "count".
const countWAT = `(module
  (import "wedge_v1" "kv_increment" (func $incr (param i32 i32 i32 i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "count")
  (func (export "wedge_event") (param i32) (result i32)
    (drop (call $incr (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 5) (i64.const 1) (i32.const 64)))
    (i32.const 0)))`

// eventWait bounds the wait for one delivery; a delivery that takes
// longer fails the step.
const eventWait = 5 * time.Second

// eventTrigger is one kind of event the scenario fires.
type eventTrigger struct {
	series string // report series
	fn     string // the function it triggers
	tr     model.Trigger
	fire   func(n *node.Node, i int) error
}

var eventTriggers = []eventTrigger{
	{"kv change", "onkv", model.Trigger{Kind: "kv", Namespace: "data"}, func(n *node.Node, i int) error {
		_, err := n.KV.Put(context.Background(), "data", fmt.Sprint("k", i), []byte("v"), kv.PutOptions{})
		return err
	}},
	{"upload", "onupload", model.Trigger{Kind: "upload", Bucket: "b"}, func(n *node.Node, i int) error {
		_, err := n.Events.PutObject("b", fmt.Sprint("o", i), "text/plain", []byte("x"))
		return err
	}},
	{"queue", "onqueue", model.Trigger{Kind: "queue", Queue: "q"}, func(n *node.Node, i int) error {
		_, err := n.Events.Publish("q", []byte("m"))
		return err
	}},
}

// eventsScenario measures, on a node inside the wedge bench process, the
// time from an event's cause being acknowledged (a KV write, an upload, a
// publish) to the triggered function having run, one event at a time,
// and the queue's end-to-end throughput with many publishers.
type eventsScenario struct {
	mu   sync.Mutex
	env  *Env
	sc   report.Scenario
	node *node.Node
	bulk struct {
		messages            int
		published, all      time.Duration
		delivered, parallel int
	}
}

func (s *eventsScenario) ID() string { return "events" }

func (s *eventsScenario) Plan(env *Env) ([]Step, error) {
	p := env.Plan()
	if p.EventTrials == 0 {
		return nil, nil
	}
	s.env = env
	s.sc = report.Scenario{Name: EventsScenarioName, XLabel: "events in flight",
		Metrics: []report.Metric{report.P50, report.P99, report.P999}}
	if env.opts.Target != "" {
		env.note(EventsScenarioName, "not run: it starts a node of its own, and a --target run only measures the given node")
		return nil, nil
	}
	steps := []Step{{Scenario: EventsScenarioName, What: "start a node in process, deploy a function per trigger",
		Estimate: time.Second, Run: s.start}}
	for _, tr := range eventTriggers {
		steps = append(steps, Step{Scenario: EventsScenarioName,
			What:     fmt.Sprintf("%s: %d events, one at a time", tr.series, p.EventTrials),
			Estimate: time.Duration(p.EventTrials) * 25 * time.Millisecond,
			Run:      func(ctx context.Context) (string, error) { return s.latency(ctx, tr) }})
	}
	steps = append(steps,
		Step{Scenario: EventsScenarioName, What: fmt.Sprintf("queue: %d messages from 16 publishers", p.EventBulk),
			Estimate: time.Duration(p.EventBulk) * 2 * time.Millisecond, Run: s.throughput},
		Step{Scenario: EventsScenarioName, What: "stop the node", Estimate: 200 * time.Millisecond,
			Run: func(context.Context) (string, error) { return "", s.stop() }})
	env.addCleanup(func() { _ = s.stop() })
	return steps, nil
}

func (s *eventsScenario) start(ctx context.Context) (string, error) {
	var tb [16]byte
	rand.Read(tb[:])
	n, err := node.Start(context.Background(), node.Config{HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		DataDir: filepath.Join(s.env.workDir, "events-node"), ArtifactDir: s.env.artifactsDir(),
		AdminToken: hex.EncodeToString(tb[:]), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.node = n
	s.mu.Unlock()
	s.env.applyPin()
	wasm, err := wasmtime.Wat2Wasm(countWAT)
	if err != nil {
		return "", err
	}
	deploy := append(slices.Clone(eventTriggers), eventTrigger{fn: "bulk", tr: model.Trigger{Kind: "queue", Queue: "bulk"}})
	for _, d := range deploy {
		if _, _, err := n.Registry.Deploy(context.Background(), fnregistry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: d.fn, Triggers: []model.Trigger{d.tr}}, Wasm: wasm}); err != nil {
			return "", fmt.Errorf("deploying %s: %w", d.fn, err)
		}
	}
	return fmt.Sprintf("%d functions", len(deploy)), nil
}

// eventCount is how many events fn has handled.
func eventCount(n *node.Node, fn string) int {
	e, err := n.KV.Get(fn, "count")
	if err != nil {
		return 0
	}
	v, _ := strconv.Atoi(string(e.Value))
	return v
}

func (s *eventsScenario) latency(ctx context.Context, tr eventTrigger) (string, error) {
	s.mu.Lock()
	n := s.node
	s.mu.Unlock()
	if n == nil {
		return "", ErrSkipped
	}
	trials := s.env.Plan().EventTrials
	ds := make([]float64, 0, trials) // µs
	for i := range trials {
		if ctx.Err() != nil {
			return "", context.Cause(ctx)
		}
		before := eventCount(n, tr.fn)
		start := time.Now()
		if err := tr.fire(n, i); err != nil {
			return "", fmt.Errorf("event %d: %w", i, err)
		}
		for eventCount(n, tr.fn) == before {
			if time.Since(start) > eventWait {
				return "", fmt.Errorf("event %d not handled within %s", i, eventWait)
			}
			time.Sleep(50 * time.Microsecond)
		}
		ds = append(ds, float64(time.Since(start).Nanoseconds())/1000)
	}
	slices.Sort(ds)
	smp := report.Sample{P50: quantileOf(ds, 0.5), P99: quantileOf(ds, 0.99), P999: quantileOf(ds, 0.999)}
	s.mu.Lock()
	s.sc.Add(tr.series, "1", 1, smp)
	s.mu.Unlock()
	return fmt.Sprintf("p50 %s, p99 %s", formatMicros(smp.P50), formatMicros(smp.P99)), nil
}

// quantileOf is the q quantile of sorted xs (nearest rank).
func quantileOf(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func (s *eventsScenario) throughput(ctx context.Context) (string, error) {
	s.mu.Lock()
	n := s.node
	s.mu.Unlock()
	if n == nil {
		return "", ErrSkipped
	}
	const publishers = 16
	total := s.env.Plan().EventBulk
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, publishers)
	for g := range publishers {
		wg.Go(func() {
			for i := g; i < total; i += publishers {
				if _, err := n.Events.Publish("bulk", []byte("m")); err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	published := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return "", fmt.Errorf("publishing: %w", err)
		}
	}
	deadline := start.Add(time.Minute)
	for eventCount(n, "bulk") < total && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	all := time.Since(start)
	got := eventCount(n, "bulk")
	s.mu.Lock()
	s.bulk.messages, s.bulk.published, s.bulk.all, s.bulk.delivered, s.bulk.parallel = total, published, all, got, publishers
	s.mu.Unlock()
	if got < total {
		return "", fmt.Errorf("%d of %d messages delivered after %s", got, total, roundDuration(all))
	}
	return fmt.Sprintf("%.0f publishes/s, %.0f messages/s end to end", float64(total)/published.Seconds(), float64(got)/all.Seconds()), nil
}

func (s *eventsScenario) stop() error {
	s.mu.Lock()
	n := s.node
	s.node = nil
	s.mu.Unlock()
	if n == nil {
		return nil
	}
	return n.Close()
}

func (s *eventsScenario) Results() []report.Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil {
		return nil
	}
	sc := s.sc
	sc.Description = fmt.Sprintf("A node inside the `wedge bench` process (so no HTTP between cause and measurement) serves one "+
		"function per trigger, each counting its deliveries with a KV increment. Latency is from the cause being acknowledged "+
		"(a KV write, an upload into a bucket, a durable publish) to the function's count having changed, polled every 50 µs, "+
		"for %d events one after the other per trigger.", s.env.Plan().EventTrials)
	if b := s.bulk; b.messages > 0 {
		sc.Description += fmt.Sprintf(" Queue throughput: %s messages published by %d goroutines in %s (%.0f durable publishes/s); "+
			"%s delivered, one per invocation, after %s (%.0f messages/s end to end).",
			groupInt(float64(b.messages)), b.parallel, roundDuration(b.published), float64(b.messages)/b.published.Seconds(),
			groupInt(float64(b.delivered)), roundDuration(b.all), float64(b.delivered)/b.all.Seconds())
	}
	return []report.Scenario{sc}
}
