package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// newVersionsCmd lists the kept versions of a function.
func newVersionsCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "versions NAME",
		Short: "list a function's kept versions",
		Long: `List the versions of function NAME the node keeps (the last --keep-versions
deploys, 10 by default): number, module hash, when and by which token it was
deployed, its routes. The active one is marked *; during a gradual rollout
the stable one is marked too, with the rollout's share.`,
		Example: `  wedge versions hello
  wedge versions hello -o json`,
		Args: exactArgs(1),
	}
	out := outputFlag(c)
	newClient := clientFlags(e, c)
	c.RunE = func(_ *cobra.Command, pos []string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		vs, err := cl.Versions(e.ctx, pos[0])
		if err != nil {
			return err
		}
		if out.json() {
			return writeJSON(e.stdout, vs)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tACTIVE\tSHA256\tDEPLOYED\tBY\tROUTES")
		for _, v := range vs {
			active, deployed := "", "-"
			if v.Active {
				active = "*"
			}
			if !v.Deployed.IsZero() {
				deployed = v.Deployed.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%d\t%s\t%.12s\t%s\t%s\t%v\n", v.Version, active, v.SHA256, deployed, orDash(v.DeployedBy), v.Routes)
		}
		return tw.Flush()
	}
	return c
}
