package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"
)

// cmdVersions lists the kept versions of a function.
func cmdVersions(e *env, args []string) error {
	fs := newFlags("versions", e)
	newClient := clientFlags(fs)
	output := fs.String("output", "table", "table or json")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errUsage
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	vs, err := cl.Versions(e.ctx, pos[0])
	if err != nil {
		return err
	}
	if *output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(vs)
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
