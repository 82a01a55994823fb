package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/testutil"
)

// TestBenchLaunchesWedgeBench: `wedge bench` runs the wedge-bench beside
// it with the arguments as given, adds --wedge with its own path (not for
// compare), says which wedge-bench it runs, and fails with its status.
func TestBenchLaunchesWedgeBench(t *testing.T) {
	dir := t.TempDir()
	wedge := filepath.Join(dir, "wedge")
	if err := os.Link(wedgeBinary(t), wedge); err != nil {
		b, err := os.ReadFile(wedgeBinary(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(wedge, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A stand-in wedge-bench: prints its arguments, exits with $BENCH_EXIT.
	script := "#!/bin/sh\necho \"args: $*\"\nexit ${BENCH_EXIT:-0}\n"
	if err := os.WriteFile(filepath.Join(dir, "wedge-bench"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(exit string, args ...string) (string, error) {
		cmd := exec.Command(wedge, append([]string{"bench"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "BENCH_EXIT="+exit)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run("0", "--quick", "--out", "/tmp/x")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	testutil.Contains(t, out, "wedge bench: running "+filepath.Join(dir, "wedge-bench")+" (beside wedge)")
	testutil.Contains(t, out, "args: --wedge "+wedge+" --quick --out /tmp/x\n")

	out, err = run("0", "compare", "a", "b")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	testutil.Contains(t, out, "args: compare a b\n")

	out, err = run("0", "--wedge", "/other/wedge", "--only", "invoke")
	if err != nil || !strings.Contains(out, "args: --wedge /other/wedge --only invoke\n") {
		t.Fatalf("an explicit --wedge is kept: %v\n%s", err, out)
	}

	out, err = run("3", "--quick")
	if err == nil {
		t.Fatalf("wedge bench succeeded though wedge-bench exited with 3:\n%s", out)
	}
	testutil.Contains(t, out, "wedge-bench exited with status 3")
}
