package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Commands that parse their own arguments with the standard flag package
// (bench, which only launches the benchmark suite) are wrapped as cobra
// commands with flag parsing off: they see every argument, their help
// goes to stdout, and a flag error is a usage error (exit 2).

// passThrough wraps run as a cobra command that parses its own flags.
func passThrough(c *cobra.Command, e *env, run func(e *env, args []string) error) *cobra.Command {
	c.DisableFlagParsing = true
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(_ *cobra.Command, args []string) error { return run(e, args) }
	return c
}

func newFlags(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("wedge "+name, flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	return fs
}

// parse parses flags that may appear before, between or after positional
// arguments, and returns the positionals. A bad flag is a usage error.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
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
