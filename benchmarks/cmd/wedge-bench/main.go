// Command wedge-bench runs the benchmark suite (benchmarks/README.md) or
// compares two of its results.json files (`wedge-bench compare OLD NEW`).
// It lives in the benchmarks module so that the wedge binary links none
// of the suite's plotting, PDF and font packages; `wedge bench` launches
// it and passes its own path with --wedge.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/benchmarks/suite"
)

// errUsage makes main print the usage line and exit with 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var err error
	if len(args) > 0 && args[0] == "compare" {
		err = compare(args[1:], stdout, stderr)
	} else {
		err = bench(ctx, args, stdout, stderr)
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "usage: wedge-bench [flags] | wedge-bench compare OLD NEW\n%v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "wedge-bench: %v\n", err)
		return 1
	}
}

func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wedge-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "the quick profile: the whole suite in under a minute, rough numbers (CI smoke runs)")
	wedge := fs.String("wedge", "", "the wedge `binary` that starts nodes (default: wedge beside this executable, then on PATH)")
	target := fs.String("target", "", "measure the already running node with this public `URL` (loopback) instead of starting one; needs --admin and --token")
	admin := fs.String("admin", os.Getenv("WEDGE_ADMIN"), "admin API `URL` of the --target node (env WEDGE_ADMIN)")
	token := fs.String("token", os.Getenv("WEDGE_ADMIN_TOKEN"), "admin `token` of the --target node (env WEDGE_ADMIN_TOKEN)")
	out := fs.String("out", "", "report `DIR` (default benchmarks/results/<date-time> in the checkout)")
	installPeers := fs.Bool("install-peers", false, "first run npm install workerd in the peers directory, so workerd is measured too")
	peers := fs.String("peers", "", "peers `DIR` holding workerd/ (default <user cache dir>/wedge-bench)")
	source := fs.String("source", "", "wedge checkout `DIR` to build the baselines and the Go example from (default: found from the working directory)")
	only := fs.String("only", "", "comma-separated `scenarios` to run: "+strings.Join(suite.IDs(), ", ")+" (default all)")
	servers := fs.String("servers", "", "comma-separated HTTP `series` to measure: "+strings.Join(suite.AllSeries, ", ")+" (default all available)")
	noPin := fs.Bool("no-pin", false, "do not pin servers and load generator to separate CPUs")
	idlePoll := fs.Bool("idle-poll", false, "keep idle CPUs polling for the session (holds /dev/cpu_dma_latency at 0, needs root), so that waking the idle load generator costs the server no interrupt; see benchmarks/README.md")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	opts := suite.Options{
		Quick: *quick, Target: *target, OutDir: *out, InstallPeers: *installPeers, PeersDir: *peers,
		SourceDir: *source, Scenarios: splitList(*only), Servers: splitList(*servers), NoPin: *noPin, IdlePoll: *idlePoll,
		Progress: stdout,
	}
	if *target != "" {
		if *admin == "" || *token == "" {
			return errors.New("--target needs --admin URL and --token TOKEN of that node")
		}
		opts.TargetAdmin, opts.TargetToken = *admin, *token
	} else {
		bin, err := wedgeBinary(*wedge)
		if err != nil {
			return err
		}
		opts.WedgeBinary = bin
	}
	_, err := suite.Run(ctx, opts)
	return err
}

// wedgeBinary returns the wedge executable nodes are started from: the
// flag, else wedge beside this executable (make build puts both in bin/),
// else wedge on PATH.
func wedgeBinary(flagValue string) (string, error) {
	if flagValue != "" {
		return filepath.Abs(flagValue)
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "wedge")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("wedge"); err == nil {
		return filepath.Abs(p)
	}
	return "", errors.New("no wedge binary beside wedge-bench or on PATH: pass --wedge PATH (or run `wedge bench`, which passes its own)")
}

func compare(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wedge-bench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("%w: compare takes OLD NEW (results.json files or report directories)", errUsage)
	}
	return report.CompareFiles(stdout, resultsPath(fs.Arg(0)), resultsPath(fs.Arg(1)))
}

// resultsPath accepts a report directory for its results.json.
func resultsPath(p string) string {
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return filepath.Join(p, report.ResultsFile)
	}
	return p
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
