package suite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/benchmarks/report"
)

// TestIdlePollHoldsTheLatencyLimit: with --idle-poll a session holds the
// kernel's CPU latency limit at 0 µs, says so in the report, and gives the
// limit back when it ends. Root can open the interface, so as root a
// failure is a failure; other users skip (the file is root's).
func TestIdlePollHoldsTheLatencyLimit(t *testing.T) {
	if _, err := os.OpenFile(cpuLatencyFile, os.O_WRONLY, 0); err != nil {
		if os.Geteuid() == 0 {
			t.Fatalf("root cannot open %s: %v", cpuLatencyFile, err)
		}
		t.Skipf("not root: %v", err)
	}
	before, err := cpuLatencyLimit()
	if err != nil {
		t.Fatal(err)
	}
	if before == 0 {
		t.Fatalf("another process already holds the CPU latency limit at 0; the test cannot tell")
	}

	keepRegistry(t)
	var during int32 = -1
	Register(func() Scenario {
		return &probeScenario{fakeScenario: fakeScenario{id: "probe"}, probe: func() {
			during, _ = cpuLatencyLimit()
		}}
	})
	out := filepath.Join(t.TempDir(), "report")
	if _, err := Run(t.Context(), Options{
		Plan: &Plan{Profile: "test"}, Target: "http://127.0.0.1:1", TargetAdmin: "http://127.0.0.1:1", TargetToken: "t",
		Scenarios: []string{"probe"}, OutDir: out, NoPin: true, SourceDir: t.TempDir(), IdlePoll: true,
	}); err != nil {
		t.Fatal(err)
	}
	if during != 0 {
		t.Errorf("the latency limit during the session was %d µs, want 0", during)
	}
	after, err := cpuLatencyLimit()
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("the latency limit after the session is %d µs, want it back at %d", after, before)
	}
	md, err := os.ReadFile(filepath.Join(out, report.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| CPU idle | polling: the suite held /dev/cpu_dma_latency at 0 µs") {
		t.Errorf("the report does not say idle CPUs polled:\n%s", md)
	}
}

// TestIdlePollUnavailableFailsTheSession: when the interface cannot be
// opened, --idle-poll is refused before anything is measured, rather than
// measuring under a setting the report would then misstate.
func TestIdlePollUnavailableFailsTheSession(t *testing.T) {
	saved := cpuLatencyFile
	cpuLatencyFile = filepath.Join(t.TempDir(), "no-such-file")
	t.Cleanup(func() { cpuLatencyFile = saved })
	out := filepath.Join(t.TempDir(), "report")
	_, err := Run(t.Context(), Options{
		Plan: &Plan{Profile: "test"}, Target: "http://127.0.0.1:1", TargetAdmin: "http://127.0.0.1:1", TargetToken: "t",
		OutDir: out, NoPin: true, SourceDir: t.TempDir(), IdlePoll: true,
	})
	if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), "--idle-poll") {
		t.Fatalf("Run with an unavailable --idle-poll returned %v, want an ErrOptions naming --idle-poll", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused session wrote a report (%v)", err)
	}
}

// probeScenario is a fakeScenario whose step first calls probe.
type probeScenario struct {
	fakeScenario
	probe func()
}

func (p *probeScenario) Plan(env *Env) ([]Step, error) {
	steps, err := p.fakeScenario.Plan(env)
	for i := range steps {
		run := steps[i].Run
		steps[i].Run = func(ctx context.Context) (string, error) {
			p.probe()
			return run(ctx)
		}
	}
	return steps, err
}

func (p *probeScenario) Results() []report.Scenario { return p.fakeScenario.Results() }
