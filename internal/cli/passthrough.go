package cli

import "github.com/spf13/cobra"

// passThrough wraps run as a cobra command that parses its own
// arguments: flag parsing off, every argument handed on as given. bench
// uses it, since it only launches wedge-bench, which owns its flags and
// its help.
func passThrough(c *cobra.Command, e *env, run func(e *env, args []string) error) *cobra.Command {
	c.DisableFlagParsing = true
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(_ *cobra.Command, args []string) error { return run(e, args) }
	return c
}
