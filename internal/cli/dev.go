package cli

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/wedge-run/wedge/internal/devloop"
)

// newDevCmd is `wedge dev`: the inner loop of a dev node, build, deploy,
// watch and redeploy (internal/devloop).
func newDevCmd(e *env) *cobra.Command {
	var opts devloop.Options
	var token string
	c := &cobra.Command{
		Use:   "dev [DIR]",
		Short: "build, deploy and watch a function or app; redeploy on every change",
		Long: `Build and deploy the function or app in DIR (default: the current
directory), then watch its files: every save rebuilds and redeploys what it
changed, prints how long that took, and the functions' logs stream to the
terminal. A build or deploy that fails is printed and changes nothing: the
last good version keeps serving.

DIR is an app (wedge.toml, built and deployed as 'wedge deploy DIR' does it)
or one function: a directory made by 'wedge init' (Go is built with
GOOS=wasip1 go build, Rust, C and AssemblyScript with make, JavaScript needs
nothing), a directory holding one .wat file, or one .js worker.

wedge dev starts a node of its own, with its data in DIR/.wedge-dev and free
ports on 127.0.0.1 (printed, with where its admin token is), and stops it on
Ctrl-C. With --admin URL (or WEDGE_ADMIN) it deploys to that node instead,
and leaves it running.`,
		Example: `  wedge init --lang js hi && wedge dev hi     # a JavaScript worker
  wedge dev                                  # the app or function in this directory
  wedge dev examples/chat                    # an app: wedge.toml
  wedge dev --admin http://127.0.0.1:8081    # deploy to a running node instead`,
		Args: rangeArgs(0, 1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Admin, "admin", "", "deploy to the node whose admin API is at `URL` (env WEDGE_ADMIN) instead of starting one")
	f.StringVar(&token, "token", "", "admin `TOKEN` for --admin (env WEDGE_ADMIN_TOKEN; default: wedge-data/admin-token here or in a parent directory)")
	f.StringVar(&opts.Public, "public", "", "public gateway `URL` of the --admin node, to print where to try the functions (env WEDGE_PUBLIC)")
	f.StringVar(&opts.DataDir, "data", "", "data `DIR` of the node wedge dev starts (default DIR/.wedge-dev)")
	f.StringVar(&opts.HTTPAddr, "http", "127.0.0.1:0", "public gateway listen `ADDR` of the node wedge dev starts (default: a free port)")
	f.StringVar(&opts.AdminAddr, "admin-addr", "127.0.0.1:0", "admin API listen `ADDR` of the node wedge dev starts (default: a free port)")
	f.StringVar(&opts.Name, "name", "", "a single function's `NAME` (default: the one its Makefile deploys, else the directory's name)")
	f.StringArrayVar(&opts.Routes, "route", nil, "a single function's route `PATH` (repeatable; default: its Makefile's, else /NAME/...)")
	_ = c.MarkFlagDirname("data")
	c.RunE = func(_ *cobra.Command, pos []string) error {
		opts.Dir, opts.Stdout, opts.Stderr = ".", e.stdout, e.stderr
		if len(pos) == 1 {
			opts.Dir = pos[0]
		}
		if opts.Admin == "" {
			opts.Admin = os.Getenv("WEDGE_ADMIN")
		}
		if opts.Public == "" {
			opts.Public = os.Getenv("WEDGE_PUBLIC")
		}
		if opts.Admin != "" {
			opts.Token, opts.TokenSource = token, "--token"
			if opts.Token == "" {
				opts.Token, opts.TokenSource = os.Getenv("WEDGE_ADMIN_TOKEN"), "WEDGE_ADMIN_TOKEN"
			}
			if opts.Token == "" {
				opts.Token, opts.TokenSource = findLocalToken()
			}
			if opts.Token == "" {
				return errors.New("no admin token for --admin: pass --token or set WEDGE_ADMIN_TOKEN")
			}
		}
		// Once Ctrl-C stopped the loop, a second one ends the process at once.
		go func() {
			<-e.ctx.Done()
			signal.Reset(os.Interrupt, syscall.SIGTERM)
		}()
		return devloop.Run(e.ctx, opts)
	}
	return c
}
