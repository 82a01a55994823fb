package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/wedge-run/wedge/benchmarks/report"
	"github.com/wedge-run/wedge/benchmarks/suite"
)

func newBenchCmd(e *env) *cobra.Command {
	return passThrough(&cobra.Command{
		Use:   "bench [--quick] [--out DIR] [--target URL] | bench compare OLD NEW",
		Short: "run the benchmark suite, or compare two runs",
		Long:  "Run the benchmark suite (benchmarks/README.md); `wedge bench --help` lists its flags.",
		Example: `  wedge bench --quick
  wedge bench compare benchmarks/results/A benchmarks/results/B`,
	}, e, cmdBench)
}

// cmdBench runs the benchmark suite (benchmarks/README.md), or compares
// two of its results.json files with `wedge bench compare OLD NEW`.
func cmdBench(e *env, args []string) error {
	if len(args) > 0 && args[0] == "compare" {
		return cmdBenchCompare(e, args[1:])
	}
	fs := newFlags("bench", e)
	quick := fs.Bool("quick", false, "the quick profile: the whole suite in under a minute, rough numbers (CI smoke runs)")
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
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: unexpected arguments %q (wedge bench [flags] | wedge bench compare OLD NEW)", errUsage, pos)
	}
	opts := suite.Options{
		Quick: *quick, Target: *target, OutDir: *out, InstallPeers: *installPeers, PeersDir: *peers,
		SourceDir: *source, Scenarios: splitList(*only), Servers: splitList(*servers), NoPin: *noPin,
		Progress: e.stdout,
	}
	if *target != "" {
		if *admin == "" || *token == "" {
			return errors.New("--target needs --admin URL and --token TOKEN of that node")
		}
		opts.TargetAdmin, opts.TargetToken = *admin, *token
	} else {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the wedge binary to start nodes with: %w", err)
		}
		opts.WedgeBinary = self
	}
	_, err = suite.Run(e.ctx, opts)
	return err
}

func cmdBenchCompare(e *env, args []string) error {
	fs := newFlags("bench compare", e)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: wedge bench compare OLD NEW (results.json files or report directories)", errUsage)
	}
	return report.CompareFiles(e.stdout, resultsPath(pos[0]), resultsPath(pos[1]))
}

// resultsPath accepts a report directory for its results.json.
func resultsPath(p string) string {
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return p + string(os.PathSeparator) + report.ResultsFile
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
