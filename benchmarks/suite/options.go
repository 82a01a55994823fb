package suite

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrOptions wraps every invalid Options value.
var ErrOptions = errors.New("suite: invalid options")

// Options configure one session. The zero value runs the full profile,
// starting a node from WedgeBinary, which is then required.
type Options struct {
	// Quick selects the quick profile (QuickPlan): the whole session in
	// well under a minute, for CI smoke runs. Otherwise FullPlan is used.
	Quick bool
	// Plan, when set, replaces the profile's plan (tests, custom runs).
	Plan *Plan

	// Target is the public URL of an already running wedge node on this
	// machine (loopback only: the load generator refuses anything else),
	// with TargetAdmin and TargetToken for its admin API. The suite then
	// deploys its functions there (named bench-*) instead of starting a
	// node, removes them afterwards, and skips what needs a node of its
	// own (the deployed-functions scaling).
	Target      string
	TargetAdmin string
	TargetToken string

	// WedgeBinary is the wedge executable used to start nodes
	// (`wedge serve`). Required unless Target is set.
	WedgeBinary string
	// SourceDir is a wedge source checkout, used to build the baseline
	// servers and the Go SDK example. Default: the first directory from
	// the working directory upwards whose go.mod declares the wedge module.
	// Without one (or without a Go toolchain) what needs building is
	// skipped with a note.
	SourceDir string
	// BaselineBinary and WazeroBinary are prebuilt benchmarks/cmd/baseline
	// and benchmarks/cmd/wazero-baseline executables; empty means build
	// them from SourceDir.
	BaselineBinary string
	WazeroBinary   string
	// GoHelloWasm is a prebuilt examples/go-hello module; empty means
	// build it from SourceDir. SkipGoHello leaves the Go SDK guest out.
	GoHelloWasm string
	SkipGoHello bool

	// OutDir receives the report. Default:
	// <SourceDir>/benchmarks/results/<UTC date-time>, or
	// ./wedge-bench-results/<UTC date-time> without a checkout.
	OutDir string
	// PeersDir holds third-party servers (workerd under
	// PeersDir/workerd) and compiled guests kept between sessions
	// (PeersDir/artifacts). Default: <user cache dir>/wedge-bench.
	PeersDir string
	// InstallPeers runs `npm install workerd` in PeersDir/workerd first.
	InstallPeers bool

	// Servers limits the HTTP scenario to these series (SeriesWedgeWAT,
	// ...); nil means every available one.
	Servers []string
	// Scenarios limits the session to the registered scenarios with these
	// names; nil means all.
	Scenarios []string
	// NoPin runs without CPU pinning.
	NoPin bool
	// IdlePoll keeps idle CPUs polling for the session (holdIdlePolling),
	// so that waking the load generator costs the server no interrupt; an
	// error if the kernel's interface cannot be opened.
	IdlePoll bool

	// Progress receives one line per step with an estimate of the time
	// left; nil discards it.
	Progress io.Writer
	// Clock is used for timestamps and the progress estimate; nil means
	// the system clock.
	Clock Clock
}

// Clock tells the time; tests pass a fake one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Plan is what a session measures and for how long.
type Plan struct {
	// Profile names the plan in the report title ("quick", "full", ...).
	Profile string

	// HTTP scenario: closed-loop connection counts, repetitions of every
	// (server, connections) pair, and the warmup and measured window of
	// each repetition.
	Connections []int
	Repetitions int
	Warmup      time.Duration
	Duration    time.Duration

	// In-process scenario: repetitions per guest and the timed window of
	// each (after a warmup of a third of it).
	MicroRepetitions int
	MicroDuration    time.Duration

	// Per-request cost scenario: the profiled window per guest (0: the
	// scenario is left out).
	CostDuration time.Duration

	// Deployed-functions scenario: function counts, the connections the
	// requests are spread over, repetitions per count, and each
	// repetition's warmup and window.
	FunctionCounts    []int
	ScaleConnections  int
	ScaleRepetitions  int
	ScaleWarmup       time.Duration
	ScaleDuration     time.Duration
	DeployConcurrency int

	// Chat scenario (chat.go): writer counts, runs per count, and the
	// messages each writer posts in a run, which also ends at ChatDuration.
	ChatWriters     []int
	ChatRepetitions int
	ChatMessages    int
	ChatDuration    time.Duration

	// Cluster scenario (cluster.go): the size of the local cluster,
	// trials per propagation measurement, the gossip traffic windows
	// and the KV write rate of the loaded one, failure-detection trials,
	// and the in-process simulation's sizes (none: not run) and trials.
	ClusterNodes         int
	ClusterTrials        int
	ClusterTrafficWindow time.Duration
	ClusterWriteRate     int
	ClusterFailureTrials int
	ClusterSimSizes      []int
	ClusterSimTrials     int

	// Overload scenario (overload.go): the open-loop loads offered, as
	// multiples of the measured capacity (none: not run), and the warmup
	// and window of each measurement (the fairness part uses them too).
	OverloadMultiples []float64
	OverloadWarmup    time.Duration
	OverloadDuration  time.Duration

	// Events scenario (events.go): events fired one at a time per
	// trigger (0: not run), and the messages of the queue throughput run.
	EventTrials int
	EventBulk   int

	// Outbound scenario (outbound.go): runs per series (0: not run) and
	// the timed window of each (after a warmup of a third of it).
	OutboundRepetitions int
	OutboundDuration    time.Duration
}

// QuickPlan is the CI smoke profile: two connection counts, three
// repetitions, sub-second windows. Three repetitions are too few for a
// difference to be significant (see benchmarks/report); quick runs show
// that everything works and give rough numbers.
func QuickPlan() Plan {
	return Plan{
		Profile:           "quick",
		Connections:       []int{16, 64},
		Repetitions:       3,
		Warmup:            150 * time.Millisecond,
		Duration:          400 * time.Millisecond,
		MicroRepetitions:  3,
		MicroDuration:     300 * time.Millisecond,
		CostDuration:      time.Second,
		FunctionCounts:    []int{1, 100, 1000},
		ScaleConnections:  16,
		ScaleRepetitions:  1,
		ScaleWarmup:       150 * time.Millisecond,
		ScaleDuration:     400 * time.Millisecond,
		DeployConcurrency: 4,
		ChatWriters:       []int{4},
		ChatRepetitions:   1,
		ChatMessages:      40,
		ChatDuration:      5 * time.Second,

		ClusterNodes:         5,
		ClusterTrials:        10,
		ClusterTrafficWindow: 2 * time.Second,
		ClusterWriteRate:     1000,
		ClusterFailureTrials: 1,

		OverloadMultiples: []float64{1, 5},
		OverloadWarmup:    150 * time.Millisecond,
		OverloadDuration:  400 * time.Millisecond,

		EventTrials: 50,
		EventBulk:   1000,

		OutboundRepetitions: 2,
		OutboundDuration:    250 * time.Millisecond,
	}
}

// FullPlan is the profile for published numbers: four connection counts,
// five repetitions, five-second windows after a one-second warmup.
func FullPlan() Plan {
	return Plan{
		Profile:           "full",
		Connections:       []int{1, 16, 64, 256},
		Repetitions:       5,
		Warmup:            time.Second,
		Duration:          5 * time.Second,
		MicroRepetitions:  5,
		MicroDuration:     2 * time.Second,
		CostDuration:      5 * time.Second,
		FunctionCounts:    []int{1, 100, 1000, 10000},
		ScaleConnections:  64,
		ScaleRepetitions:  3,
		ScaleWarmup:       time.Second,
		ScaleDuration:     3 * time.Second,
		DeployConcurrency: 4,
		ChatWriters:       []int{4, 16},
		ChatRepetitions:   3,
		ChatMessages:      60,
		ChatDuration:      15 * time.Second,

		ClusterNodes:         5,
		ClusterTrials:        50,
		ClusterTrafficWindow: 10 * time.Second,
		ClusterWriteRate:     1000,
		ClusterFailureTrials: 3,
		ClusterSimSizes:      []int{10, 25, 50, 100},
		ClusterSimTrials:     20,

		OverloadMultiples: []float64{0.5, 1, 2, 5, 10},
		OverloadWarmup:    300 * time.Millisecond,
		OverloadDuration:  2 * time.Second,

		EventTrials: 200,
		EventBulk:   5000,

		OutboundRepetitions: 5,
		OutboundDuration:    2 * time.Second,
	}
}

// plan returns the plan o selects.
func (o Options) plan() (Plan, error) {
	p := FullPlan()
	if o.Quick {
		p = QuickPlan()
	}
	if o.Plan != nil {
		p = *o.Plan
	}
	return p, p.validate()
}

func (p Plan) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: plan %q: %s", ErrOptions, p.Profile, fmt.Sprintf(format, args...))
	}
	for _, c := range p.Connections {
		if c < 1 || c > 1024 {
			return bad("connection count %d out of [1, 1024]", c)
		}
	}
	for _, n := range p.FunctionCounts {
		if n < 1 || n > 100_000 {
			return bad("function count %d out of [1, 100000]", n)
		}
	}
	for _, w := range p.ChatWriters {
		if w < 1 || w > 64 {
			return bad("chat writer count %d out of [1, 64]", w)
		}
	}
	switch {
	case len(p.Connections) > 0 && (p.Repetitions < 1 || p.Duration <= 0 || p.Warmup < 0):
		return bad("HTTP scenario needs repetitions >= 1, a duration > 0 and a warmup >= 0")
	case p.MicroRepetitions < 0 || p.MicroRepetitions > 0 && p.MicroDuration <= 0:
		return bad("in-process scenario needs a duration > 0")
	case len(p.FunctionCounts) > 0 && (p.ScaleRepetitions < 1 || p.ScaleDuration <= 0 || p.ScaleWarmup < 0 ||
		p.ScaleConnections < 1 || p.ScaleConnections > 1024):
		return bad("deployed-functions scenario needs repetitions >= 1, a duration > 0 and 1-1024 connections")
	case p.ClusterNodes != 0 && (p.ClusterNodes < 2 || p.ClusterNodes > 32 || p.ClusterTrials < 1 || p.ClusterTrafficWindow <= 0 ||
		p.ClusterWriteRate < 1 || p.ClusterFailureTrials < 0 || len(p.ClusterSimSizes) > 0 && p.ClusterSimTrials < 1):
		return bad("cluster scenario needs 2-32 nodes, trials >= 1, a traffic window > 0 and a write rate >= 1")
	case len(p.ChatWriters) > 0 && (p.ChatRepetitions < 1 || p.ChatMessages < 1 || p.ChatDuration <= 0):
		return bad("chat scenario needs repetitions >= 1, messages >= 1 and a duration > 0")
	case len(p.OverloadMultiples) > 0 && (p.OverloadDuration <= 0 || p.OverloadWarmup < 0):
		return bad("overload scenario needs a duration > 0 and a warmup >= 0")
	case p.EventTrials < 0 || p.EventTrials > 100_000 || p.EventTrials > 0 && (p.EventBulk < 1 || p.EventBulk > 1_000_000):
		return bad("events scenario needs 0-100000 trials and 1-1000000 bulk messages")
	case p.CostDuration < 0:
		return bad("cost scenario needs a duration >= 0")
	case p.OutboundRepetitions < 0 || p.OutboundRepetitions > 0 && p.OutboundDuration <= 0:
		return bad("outbound scenario needs a duration > 0")
	}
	for _, x := range p.OverloadMultiples {
		if x <= 0 || x > 100 {
			return bad("overload multiple %g out of (0, 100]", x)
		}
	}
	return nil
}

func (o Options) validate() error {
	switch {
	case o.Target == "" && o.WedgeBinary == "":
		return fmt.Errorf("%w: WedgeBinary is required to start nodes (or give Target)", ErrOptions)
	case o.Target != "" && (o.TargetAdmin == "" || o.TargetToken == ""):
		return fmt.Errorf("%w: Target needs TargetAdmin and TargetToken to deploy the benchmark functions", ErrOptions)
	}
	return nil
}
