package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// member is a cluster member as GET /v1/cluster/members shows it.
type member struct {
	Name       string  `json:"name"`
	State      string  `json:"state"`
	PublicAddr string  `json:"public_addr"`
	AdminAddr  string  `json:"admin_addr"`
	Version    string  `json:"version"`
	InFlight   int     `json:"inflight"`
	Limit      int     `json:"limit"`
	Load       float64 `json:"load"`
	Self       bool    `json:"self"`
}

// newNodesCmd lists the cluster's members with their state and load.
func newNodesCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "nodes",
		Short: "list the cluster's nodes, their state and load",
		Long:  "List the members of the cluster the node at --admin belongs to (itself, marked *, when alone).",
		Example: `  wedge nodes
  wedge nodes --admin http://127.0.0.1:8091 -o json`,
		Args: exactArgs(0),
	}
	out := outputFlag(c)
	newClient := clientFlags(e, c)
	c.RunE = func(*cobra.Command, []string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		var res struct {
			Members []member `json:"members"`
		}
		if _, err := cl.Do(e.ctx, "GET", "/v1/cluster/members", nil, nil, nil, &res); err != nil {
			return err
		}
		if out.json() {
			if res.Members == nil {
				res.Members = []member{}
			}
			return writeJSON(e.stdout, res.Members)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATE\tPUBLIC\tADMIN\tVERSION\tLOAD")
		for _, m := range res.Members {
			name := m.Name
			if m.Self {
				name += " *"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\n", name, m.State, m.PublicAddr, m.AdminAddr, m.Version, m.InFlight, m.Limit)
		}
		return tw.Flush()
	}
	return c
}
