package suite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/wedge-run/wedge/benchmarks/loadgen"
	"github.com/wedge-run/wedge/benchmarks/report"
)

// Run runs a benchmark session: it plans the selected scenarios, runs
// their steps with a progress display on Options.Progress, writes the
// report directory (report.md, results.json, charts) and returns the
// report.Run it wrote. A step that fails (a server that does not start, a
// guest that answers wrong) becomes a note in the report and the session
// goes on; Run then writes the report and returns an error wrapping
// ErrFailed, so that a smoke run in CI fails. What cannot run here (a peer
// that is not installed) is only a note. When ctx is cancelled Run stops,
// writes what was measured and returns the cancellation cause.
func Run(ctx context.Context, opts Options) (report.Run, error) {
	if err := opts.validate(); err != nil {
		return report.Run{}, err
	}
	plan, err := opts.plan()
	if err != nil {
		return report.Run{}, err
	}
	scenarios, err := selectScenarios(Scenarios(), opts.Scenarios)
	if err != nil {
		return report.Run{}, err
	}
	for _, s := range opts.Servers {
		if !containsString(AllSeries, s) {
			return report.Run{}, fmt.Errorf("%w: unknown server %q (have %s)", ErrOptions, s, strings.Join(AllSeries, ", "))
		}
	}
	workDir, err := os.MkdirTemp("", "wedge-bench-")
	if err != nil {
		return report.Run{}, err
	}
	defer os.RemoveAll(workDir)
	env := newEnv(opts, plan, workDir)
	defer env.close()
	env.pin()
	if opts.IdlePoll {
		release, err := holdIdlePolling()
		if err != nil {
			return report.Run{}, fmt.Errorf("%w: %v", ErrOptions, err)
		}
		env.addCleanup(release)
		env.cpuIdle = "polling: the suite held " + cpuLatencyFile + " at 0 µs for the session (--idle-poll)"
	}
	env.sourceVersions()
	if opts.Target == "" {
		if v, err := runOutput(ctx, "", nil, opts.WedgeBinary, "version"); err == nil {
			version := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "wedge"))
			if src, err := env.sourceDir(); err == nil {
				if c := gitCommit(ctx, src); c != "" {
					version += " (" + c + ")"
				}
			}
			env.SetVersion("wedge", version)
		}
	}
	run, runErr := session(ctx, env, scenarios)
	if errors.Is(runErr, errPlanning) {
		return run, runErr
	}
	dir, err := env.outDir()
	if err != nil {
		return run, errors.Join(runErr, err)
	}
	files, err := report.WriteReport(dir, run, report.Options{})
	if err != nil {
		return run, errors.Join(runErr, err)
	}
	prog := newProgress(opts.Progress, env.clock, nil)
	prog.line("wrote %s (%s)", filepath.Join(dir, report.ReportFile), plural(len(files), "file", "files"))
	return run, runErr
}

// session plans and runs the steps of scenarios and assembles the Run.
func session(ctx context.Context, env *Env, scenarios []Scenario) (report.Run, error) {
	var steps []Step
	for _, sc := range scenarios {
		st, err := sc.Plan(env)
		if err != nil {
			return report.Run{}, fmt.Errorf("%w %s: %w", errPlanning, sc.ID(), err)
		}
		steps = append(steps, st...)
	}
	title := fmt.Sprintf("wedge benchmark suite (%s)", env.plan.Profile)
	prog := newProgress(env.opts.Progress, env.clock, steps)
	prog.header(title)
	prog.line("pinning: %s", env.pinning)
	env.pruneSessionArtifacts(prog)
	cpuStart, cpuErr := takeCPU()
	var runErr error
	for i, st := range steps {
		if ctx.Err() != nil {
			runErr = context.Cause(ctx)
			break
		}
		prog.begin(i, st)
		summary, err := st.Run(ctx)
		skipped := errors.Is(err, ErrSkipped)
		prog.end(st, summary, err, skipped)
		if err != nil && !skipped {
			if ctx.Err() != nil {
				runErr = context.Cause(ctx)
				break
			}
			line := fmt.Sprintf("%s: %v", st.What, err)
			if !isNoted(err) {
				env.note(st.Scenario, line)
			}
			env.failure(st.Scenario, line)
		}
	}
	// Stop servers before assembling; nothing runs past this point.
	env.close()
	if cpuErr == nil {
		if cpuEnd, err := takeCPU(); err == nil {
			others, steal := foreignLoad(cpuStart, cpuEnd)
			line := fmt.Sprintf("While the session ran (%s), other processes kept %.2f of the machine's %d CPUs busy on average "+
				"and the hypervisor took %.2f for other guests; numbers from a busy machine are noisier and lower.",
				formatClock(cpuEnd.at.Sub(cpuStart.at)), others, cpuEnd.cpus, steal)
			env.note(sessionNotes, line)
			prog.line("%s", line)
		}
	}
	run := assemble(env, scenarios, title)
	if runErr != nil {
		run.Title += " — interrupted"
		return run, runErr
	}
	return run, env.failed()
}

// assemble collects the scenarios' results into a Run, with the notes
// made during the session appended to each scenario's description. A
// scenario without measurements is kept only when it has notes (saying
// why).
func assemble(env *Env, scenarios []Scenario, title string) report.Run {
	run := report.Run{Title: title}
	session := env.notesFor(sessionNotes)
	for _, sc := range scenarios {
		for _, rs := range sc.Results() {
			notes := env.notesFor(rs.Name)
			if len(run.Scenarios) == 0 {
				// The first scenario shown carries the session's notes.
				notes = append(session, notes...)
			}
			if len(rs.Series) == 0 && len(notes) == 0 {
				continue
			}
			if len(notes) > 0 {
				var b strings.Builder
				b.WriteString(rs.Description)
				if b.Len() > 0 {
					b.WriteString("\n\n")
				}
				b.WriteString("Notes:\n")
				for _, n := range notes {
					b.WriteString("\n- " + strings.ReplaceAll(n, "\n", " "))
				}
				rs.Description = b.String()
			}
			run.Scenarios = append(run.Scenarios, rs)
		}
	}
	m := report.CollectMachine(env.clock, env.versionsCopy())
	env.mu.Lock()
	m.Pinning = env.pinning
	m.CPUIdle = env.cpuIdle
	if len(env.pinProblems) > 0 {
		m.Pinning += "; " + strings.Join(env.pinProblems, "; ")
	}
	env.mu.Unlock()
	run.Machine = m
	return run
}

// errPlanning wraps a scenario's planning error; nothing ran.
var errPlanning = errors.New("planning")

// sessionNotes is the Env.Note scenario of notes about the whole
// session; they are shown with the first scenario of the report.
const sessionNotes = ""

// notedError marks an error whose details were already noted.
type notedError struct{ error }

func (e notedError) Unwrap() error { return e.error }

func noted(err error) error { return notedError{err} }

func isNoted(err error) bool {
	var n notedError
	return errors.As(err, &n)
}

// pin plans where servers and the load generator run, recording it in
// env.pinning: servers go on the first half of the CPUs (taskset), this
// process on the other half. The process itself is pinned by applyPin,
// just before the first server starts or the first measurement, so that
// builds and compilations before it may use every CPU. The process's
// affinity is restored by env.close.
func (e *Env) pin() {
	if e.opts.NoPin {
		e.pinning = "unpinned (pinning turned off)"
		return
	}
	server, generator, err := loadgen.SplitCPUs()
	if err != nil {
		e.pinning = "unpinned: " + err.Error()
		return
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		e.pinning = "unpinned: " + loadgen.ErrTasksetNotFound.Error()
		return
	}
	orig, err := loadgen.AllowedCPUs()
	if err != nil {
		e.pinning = "unpinned: " + err.Error()
		return
	}
	e.serverCPUs, e.generatorCPUs, e.origCPUs = server, generator, orig
	e.pinning = fmt.Sprintf("servers: cpu %s (taskset -c); load generator and in-process benchmarks: cpu %s (sched_setaffinity)",
		loadgen.FormatCPUList(server), loadgen.FormatCPUList(generator))
	if e.opts.Target != "" {
		e.pinning += "; the --target node was not started by the suite and is not pinned"
	}
}

// applyPin pins this process to the generator CPUs, once.
func (e *Env) applyPin() {
	e.pinOnce.Do(func() {
		if e.generatorCPUs == nil {
			return
		}
		if err := loadgen.PinProcess(e.generatorCPUs); err != nil {
			e.mu.Lock()
			e.pinning = fmt.Sprintf("servers: cpu %s (taskset -c); load generator unpinned: %v", loadgen.FormatCPUList(e.serverCPUs), err)
			e.mu.Unlock()
			return
		}
		orig := e.origCPUs
		e.addCleanup(func() { _ = loadgen.PinProcess(orig) })
	})
}

// outDir is Options.OutDir or a new directory named after the session's
// start under <checkout>/benchmarks/results (./wedge-bench-results
// without a checkout).
func (e *Env) outDir() (string, error) {
	if e.opts.OutDir != "" {
		return e.opts.OutDir, nil
	}
	stamp := e.clock.Now().UTC().Format("20060102-150405")
	if src, err := e.sourceDir(); err == nil {
		return filepath.Join(src, "benchmarks", "results", stamp), nil
	}
	return filepath.Join("wedge-bench-results", stamp), nil
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
