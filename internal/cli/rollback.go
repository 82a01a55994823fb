package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

// newRollbackCmd makes a kept version of a function the active one again
// (default: the one before the active version), or an app's functions
// their versions before the app's last deploy.
func newRollbackCmd(e *env) *cobra.Command {
	var app string
	c := &cobra.Command{
		Use:   "rollback NAME [VERSION] | rollback --app APP",
		Short: "make a kept version active again (default: the previous one, or a rollout's stable one)",
		Long: `Make VERSION of function NAME the active one again; without VERSION, the
version before the active one, or, during a gradual rollout, the stable
version (the rollout ends at 0%). Switching is a record change: no
recompilation, every node of the cluster serves it within the usual
propagation time, and requests already running finish on their version.

With --app APP: every function the app's last deploy changed goes back to
its version before that deploy, in one change: every node switches them
all at once.`,
		Example: `  wedge rollback hello
  wedge rollback hello 3
  wedge rollback --app chat`,
		Args: rangeArgs(0, 2),
	}
	c.Flags().StringVar(&app, "app", "", "roll back every function of `APP` to its version before the app's last deploy")
	newClient := clientFlags(e, c)
	c.RunE = func(_ *cobra.Command, pos []string) error {
		if app != "" {
			if len(pos) != 0 {
				return usageError("rollback --app takes no function name")
			}
			cl, err := newClient()
			if err != nil {
				return err
			}
			changes, err := cl.RollbackApp(e.ctx, app)
			if err != nil {
				return err
			}
			for _, ch := range changes {
				fmt.Fprintf(e.stdout, "%s: %s (version %d)\n", ch.Function, ch.Action, ch.Version)
			}
			return nil
		}
		if len(pos) == 0 {
			return usageError("rollback needs a function NAME (or --app APP)")
		}
		var version int64
		if len(pos) == 2 {
			v, err := strconv.ParseInt(pos[1], 10, 64)
			if err != nil || v < 1 {
				return usageError("rollback %s: VERSION must be a positive integer, got %q", pos[0], pos[1])
			}
			version = v
		}
		cl, err := newClient()
		if err != nil {
			return err
		}
		f, err := cl.Rollback(e.ctx, pos[0], version)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: version %d is active (sha256 %.12s)\n", f.Name, f.Version, f.SHA256)
		return nil
	}
	return c
}
