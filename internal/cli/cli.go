// Package cli implements the wedge command line: the daemon (serve) and
// the client commands that drive a node's admin API. The commands are
// cobra commands (docs/RATIONALE.md, "Why cobra for the CLI?"): --flag
// style, a synopsis and examples each, help on stdout, shell completion,
// and one mapping of errors to exit codes (0 ok, 1 error, 2 usage).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// env is what a command runs with.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	ctx            context.Context
	// conn is the admin API and token source of the client command that
	// ran, set when it built its client: errors name them (connerr.go).
	conn *connInfo
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// errUsage marks a usage error: a wrong number of arguments, an unknown
// command or flag. Run prints the error and where help is, and exits 2.
var errUsage = errors.New("usage")

// usageError wraps err as a usage error.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// exitStatus ends the command with a given exit code: a command that runs
// another program (bench) exits as it did.
type exitStatus struct {
	code int
	err  error
}

func (e *exitStatus) Error() string { return e.err.Error() }
func (e *exitStatus) Unwrap() error { return e.err }

// Run executes the command line and returns the exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, ctx: ctx}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	path := "wedge"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	var status *exitStatus
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &status):
		fmt.Fprintf(stderr, "%s: %v\n", path, status.err)
		return status.code
	case errors.Is(err, errUsage):
		msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
		fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", path, msg, path)
		return exitUsage
	}
	fmt.Fprintf(stderr, "%s: %v\n", path, explain(err, e.conn))
	return exitError
}

// newRoot builds the command tree.
func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "wedge",
		Short: "a WebAssembly serverless edge runtime",
		Long: `wedge runs WebAssembly (and JavaScript) functions, each request in a fresh
instance, on one node or a cluster joined by gossip.

Client commands talk to a node's admin API: --admin URL (env WEDGE_ADMIN,
default http://127.0.0.1:8081) and --token TOKEN (env WEDGE_ADMIN_TOKEN,
default: ./wedge-data/admin-token here or in a parent directory).`,
		Example: `  wedge serve                                   # a single node on 127.0.0.1:8080 (admin :8081)
  wedge deploy hi hi.wasm --route /hi           # deploy a module
  wedge deploy examples/chat                    # deploy an app (wedge.toml)
  wedge ls -o json                              # deployed functions, as JSON`,
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		// Unknown commands reach here (Args above stops cobra's own
		// check, whose error could not be told from others): a usage error.
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(c, args[0])
			}
			return c.Help()
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError("%v", err) })
	root.AddCommand(
		newServeCmd(e),
		newDeployCmd(e),
		newDevCmd(e),
		newListCmd(e),
		newRemoveCmd(e),
		newLogsCmd(e),
		newVersionsCmd(e),
		newRollbackCmd(e),
		newPromoteCmd(e),
		newKVCmd(e),
		newNodesCmd(e),
		newKeysCmd(e),
		newTokensCmd(e),
		newAuditCmd(e),
		newBenchCmd(e),
		newInitCmd(e),
		newVersionCmd(e),
	)
	return root
}

// unknownCommand is the usage error for an unknown subcommand of c, with
// cobra's suggestions.
func unknownCommand(c *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q", name)
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
	}
	return usageError("%s", msg)
}

// group makes c a command that only holds subcommands: alone it prints
// its help; with an unknown subcommand it is a usage error.
func group(c *cobra.Command) *cobra.Command {
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownCommand(c, args[0])
		}
		return c.Help()
	}
	return c
}

// exactArgs, rangeArgs: positional argument checks that are usage errors.
func exactArgs(n int) cobra.PositionalArgs { return rangeArgs(n, n) }

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			want := fmt.Sprintf("%d", lo)
			if hi != lo {
				want = fmt.Sprintf("%d to %d", lo, hi)
			}
			got := "none"
			if len(args) > 0 {
				got = fmt.Sprintf("%d (%s)", len(args), strings.Join(args, " "))
			}
			return usageError("want %s argument(s), got %s; usage: %s", want, got, strings.TrimSuffix(c.UseLine(), " [flags]"))
		}
		return nil
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
