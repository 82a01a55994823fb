// Package cli implements the wedge command line: the daemon (serve) and
// the client commands that drive a node's admin API.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/wedge-run/wedge/client"
)

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(e *env, args []string) error
}

// env is what a command runs with.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	ctx            context.Context
}

func commands() []command {
	return []command{
		{"serve", "[flags]", "run a node (public gateway + admin API)", cmdServe},
		{"deploy", "NAME FILE.wasm|FILE.js --route PATH... | deploy [DIR]", "deploy a function, or the app described by DIR/wedge.toml", cmdDeploy},
		{"dev", "[DIR] [--admin URL]", "build, deploy and watch a function or app on a dev node; redeploy on every change", cmdDev},
		{"ls", "", "list deployed functions", cmdList},
		{"rm", "NAME", "delete a function", cmdRemove},
		{"logs", "NAME [--follow]", "show a function's logs", cmdLogs},
		{"versions", "NAME [--output json]", "list a function's kept versions", cmdVersions},
		{"rollback", "NAME [VERSION] | --app APP", "make a kept version active again (default: the previous one, or a rollout's stable one)", cmdRollback},
		{"promote", "NAME", "end a gradual rollout: the new version serves every request", cmdPromote},
		{"kv", "get|put|rm|incr|ls NAMESPACE [KEY] [VALUE|@file|-]", "read and write the key-value store", cmdKV},
		{"nodes", "", "list the cluster's nodes, their state and load", cmdNodes},
		{"keys", "[list] | install|use|remove KEY", "list or rotate the cluster's gossip keys on every node", cmdKeys},
		{"tokens", "[list [--output json]] | create NAME --scope read|kv|deploy|admin [--functions PATTERN] | revoke NAME", "manage scoped admin tokens", cmdTokens},
		{"audit", "[--since 1h] [--token-name NAME] [--limit N]", "show the node's log of admin requests", cmdAudit},
		{"bench", "[--quick] [--out DIR] | compare OLD NEW", "run the benchmark suite (wedge-bench), or compare two runs", cmdBench},
		{"init", "--lang go|rust|c|as NAME", "scaffold a function project", cmdInit},
		{"version", "", "print the version", cmdVersion},
	}
}

// errUsage makes Run print the command's usage.
var errUsage = errors.New("usage")

// Run executes the command line and returns the exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, ctx: ctx}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(e, args[1:])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				fmt.Fprintf(stderr, "usage: wedge %s %s\n", c.name, c.args)
				return 2
			default:
				fmt.Fprintf(stderr, "wedge %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "wedge: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "wedge: a WebAssembly serverless edge runtime\n\nUsage:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  wedge %-8s %-48s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\nClient commands take --admin URL and --token TOKEN (or WEDGE_ADMIN and WEDGE_ADMIN_TOKEN).\n")
	fmt.Fprintf(w, "Run 'wedge COMMAND --help' for a command's flags.\n")
}

// parse parses flags that may appear before, between or after positional
// arguments, and returns the positionals.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// clientFlags adds --admin and --token and returns a constructor.
func clientFlags(fs *flag.FlagSet) func() (*client.Client, error) {
	admin := fs.String("admin", envOr("WEDGE_ADMIN", "http://127.0.0.1:8081"), "admin API `URL` (env WEDGE_ADMIN)")
	token := fs.String("token", os.Getenv("WEDGE_ADMIN_TOKEN"), "admin `token` (env WEDGE_ADMIN_TOKEN; default: wedge-data/admin-token here or in a parent directory)")
	return func() (*client.Client, error) {
		tok := *token
		if tok == "" {
			tok = findLocalToken()
		}
		if tok == "" {
			return nil, errors.New("no admin token: pass --token or set WEDGE_ADMIN_TOKEN (a node started without one prints where it stored its generated token)")
		}
		return client.New(*admin, tok), nil
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func newFlags(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("wedge "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// findLocalToken reads wedge-data/admin-token from the current directory
// or the nearest parent that has one: the token a local `wedge serve`
// generated, so that commands run from a function's folder just work.
func findLocalToken() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "wedge-data", "admin-token")); err == nil {
			return strings.TrimSpace(string(b))
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}
