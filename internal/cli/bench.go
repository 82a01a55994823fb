package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newBenchCmd(e *env) *cobra.Command {
	return passThrough(&cobra.Command{
		Use:   "bench [--quick] [--out DIR] [--target URL] | bench compare OLD NEW",
		Short: "run the benchmark suite (wedge-bench), or compare two runs",
		Long: "Run the benchmark suite (benchmarks/README.md) with wedge-bench, passing every argument on;\n" +
			"`wedge bench --help` lists its flags.",
		Example: `  wedge bench --quick
  wedge bench compare benchmarks/results/A benchmarks/results/B`,
	}, e, cmdBench)
}

// benchCommand is the benchmark suite's own command, in the benchmarks
// module (docs/RATIONALE.md, "Why is the benchmark suite its own
// module?"): the wedge binary links none of its plotting packages.
const benchCommand = "wedge-bench"

// cmdBench launches wedge-bench with the arguments as given (`wedge bench
// --help` lists its flags; `wedge bench compare OLD NEW` compares two
// runs), adding --wedge with this executable so that the suite starts
// nodes from the same build. It says in one line on stderr which
// wedge-bench it runs: the one beside this executable (make build puts
// both in bin/), one on PATH, or one built with go build from the checkout
// around the working directory.
func cmdBench(e *env, args []string) error {
	bin, how, cleanup, err := findBench(e.ctx)
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Fprintf(e.stderr, "wedge bench: %s\n", how)
	if len(args) == 0 || args[0] != "compare" {
		if self, err := os.Executable(); err == nil && !hasFlag(args, "wedge") {
			args = append([]string{"--wedge", self}, args...)
		}
	}
	cmd := exec.CommandContext(e.ctx, bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr
	// On Ctrl-C the suite stops its nodes and writes what it measured:
	// pass the interrupt on rather than kill it.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return &exitStatus{code: exit.ExitCode(), err: fmt.Errorf("%s exited with status %d", benchCommand, exit.ExitCode())}
		}
		return fmt.Errorf("running %s: %w", bin, err)
	}
	return nil
}

// findBench returns the wedge-bench to run, a line saying where it came
// from, and what to call when done (removing a binary built here).
func findBench(ctx context.Context) (bin, how string, cleanup func(), err error) {
	cleanup = func() {}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), benchCommand)
		if isExecutable(p) {
			return p, "running " + p + " (beside wedge)", cleanup, nil
		}
	}
	if p, err := exec.LookPath(benchCommand); err == nil {
		return p, "running " + p + " (from PATH)", cleanup, nil
	}
	src := benchSource()
	if src == "" {
		return "", "", cleanup, fmt.Errorf("%s not found beside wedge, on PATH or in a wedge checkout here: run make build, or go install ./cmd/%s in benchmarks/", benchCommand, benchCommand)
	}
	dir, err := os.MkdirTemp("", "wedge-bench-")
	if err != nil {
		return "", "", cleanup, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	bin = filepath.Join(dir, benchCommand)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/"+benchCommand)
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		cleanup()
		return "", "", func() {}, fmt.Errorf("building %s in %s: %v\n%s", benchCommand, src, err, out)
	}
	return bin, "built " + benchCommand + " from " + src + " with go build", cleanup, nil
}

// benchSource returns the benchmarks module of the wedge checkout at or
// above the working directory; "" if there is none.
func benchSource() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "benchmarks", "cmd", benchCommand)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return filepath.Join(dir, "benchmarks")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// hasFlag reports whether args set the flag name (-name, --name, with or
// without =value).
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}
