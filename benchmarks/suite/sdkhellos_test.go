package suite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/testutil"
)

// TestRunSDKHellos runs the HTTP and in-process scenarios with an
// ultra-short plan for the C, Rust and AssemblyScript SDK hellos: the
// suite builds each example with its Makefile, deploys it to a node it
// starts, checks its answer, and reports a wedge-<lang> series and a
// <lang>-hello guest. Skipped without the toolchains (failed under
// WEDGE_REQUIRE_TOOLCHAINS=1).
func TestRunSDKHellos(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wedge and the SDK examples and starts a node")
	}
	testutil.RequireC(t)
	testutil.RustToolchain(t)
	testutil.RequireAS(t)
	wedge, _ := buildBinaries(t)
	plan := Plan{
		Profile:     "sdk",
		Connections: []int{4}, Repetitions: 1, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond,
		MicroRepetitions: 1, MicroDuration: 100 * time.Millisecond,
	}
	series := []string{SeriesWedgeC, SeriesWedgeRust, SeriesWedgeAS}
	run, err := Run(t.Context(), Options{
		Plan: &plan, WedgeBinary: wedge, SkipGoHello: true, NoPin: true,
		Scenarios: []string{"http", "invoke"}, Servers: series,
		OutDir: filepath.Join(t.TempDir(), "report"), PeersDir: t.TempDir(), SourceDir: testutil.RepoRoot(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Scenarios) != 2 {
		t.Fatalf("%d scenarios", len(run.Scenarios))
	}
	h := run.Scenarios[0]
	if strings.Contains(h.Description, "not measured") || strings.Contains(h.Description, "failed") {
		t.Errorf("HTTP scenario notes:\n%s", h.Description)
	}
	var got []string
	for _, s := range h.Series {
		got = append(got, s.Name)
		p, ok := s.Lookup("4")
		if !ok || len(p.Samples.Throughput) != 1 || p.Samples.Throughput[0] <= 0 {
			t.Errorf("%s: %+v", s.Name, s.Points)
		}
	}
	if strings.Join(got, ",") != strings.Join(series, ",") {
		t.Errorf("HTTP series %v, want %v", got, series)
	}
	m := run.Scenarios[1]
	got = nil
	for _, s := range m.Series {
		got = append(got, s.Name)
	}
	if want := "wat-hello,c-hello,rust-hello,as-hello"; strings.Join(got, ",") != want {
		t.Errorf("in-process guests %v, want %s\n%s", got, want, m.Description)
	}
}
