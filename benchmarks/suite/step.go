package suite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wedge-run/wedge/benchmarks/report"
)

// Step is one unit of work of a session, one line on the progress
// display.
type Step struct {
	// Scenario is the name of the report scenario the step belongs to;
	// a failing step's error becomes a note there.
	Scenario string
	// What the step does, e.g. "wedge-wat, 64 connections, run 2/5".
	What string
	// Estimate is how long the step should take; the progress display
	// sums the estimates of the steps left to tell the time left.
	Estimate time.Duration
	// Run does the work and returns a short summary for the display. It
	// returns ErrSkipped when there was nothing to do (for example the
	// server it measures did not start, which was noted already). Any
	// other error is noted in the report and the session goes on, failed
	// (see Env.Fail).
	Run func(ctx context.Context) (summary string, err error)
}

// ErrSkipped is returned by a Step that had nothing to do.
var ErrSkipped = errors.New("suite: step skipped")

// ErrFailed is wrapped by the error of a session in which a step failed
// or a scenario reported a failure with Env.Fail. The report was written
// all the same, with the failures in its notes.
var ErrFailed = errors.New("suite: benchmark steps failed")

// Scenario is one part of the suite. Plan is called for every selected
// scenario before any step runs, so the progress display knows the whole
// session; Results is called after the last step (also when the session
// was interrupted, with what was measured so far).
type Scenario interface {
	// ID is the short name Options.Scenarios and `wedge bench --only`
	// select the scenario by, e.g. "http".
	ID() string
	// Plan returns the scenario's steps in the order they run.
	Plan(env *Env) ([]Step, error)
	// Results returns the measured report scenarios. Notes made with
	// Env.Note are added to their descriptions by the suite.
	Results() []report.Scenario
}

// Factory makes a fresh Scenario for one session.
type Factory func() Scenario

var (
	registryMu sync.Mutex
	registry   = []Factory{
		func() Scenario { return &httpScenario{} },
		func() Scenario { return &microScenario{} },
		func() Scenario { return &scaleScenario{} },
		func() Scenario { return &chatScenario{} },
		func() Scenario { return &clusterScenario{} },
		func() Scenario { return &overloadScenario{} },
		func() Scenario { return &eventsScenario{} },
		func() Scenario { return &outboundScenario{} },
		func() Scenario { return &costScenario{} },
	}
)

// Register adds a scenario to every later session, after the ones
// registered before it. The KV and cluster scenarios plug in here.
func Register(f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry = append(registry, f)
}

// Scenarios returns a fresh instance of every registered scenario, in
// order.
func Scenarios() []Scenario {
	registryMu.Lock()
	defer registryMu.Unlock()
	out := make([]Scenario, len(registry))
	for i, f := range registry {
		out[i] = f()
	}
	return out
}

// IDs returns the IDs of the registered scenarios.
func IDs() []string {
	var ids []string
	for _, s := range Scenarios() {
		ids = append(ids, s.ID())
	}
	return ids
}

// selectScenarios keeps the scenarios whose IDs are in only (all when
// only is empty) and reports unknown IDs.
func selectScenarios(all []Scenario, only []string) ([]Scenario, error) {
	if len(only) == 0 {
		return all, nil
	}
	var ids []string
	var out []Scenario
	for _, s := range all {
		ids = append(ids, s.ID())
		if slices.Contains(only, s.ID()) {
			out = append(out, s)
		}
	}
	for _, id := range only {
		if !slices.Contains(ids, id) {
			return nil, fmt.Errorf("%w: unknown scenario %q (have %v)", ErrOptions, id, ids)
		}
	}
	return out, nil
}
