package cli

import (
	"fmt"
	"text/tabwriter"
)

// cmdNodes lists the cluster's members with their state and load.
func cmdNodes(e *env, args []string) error {
	fs := newFlags("nodes", e)
	newClient := clientFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	var out struct {
		Members []struct {
			Name       string  `json:"name"`
			State      string  `json:"state"`
			PublicAddr string  `json:"public_addr"`
			AdminAddr  string  `json:"admin_addr"`
			Version    string  `json:"version"`
			InFlight   int     `json:"inflight"`
			Limit      int     `json:"limit"`
			Load       float64 `json:"load"`
			Self       bool    `json:"self"`
		} `json:"members"`
	}
	if _, err := cl.Do(e.ctx, "GET", "/v1/cluster/members", nil, nil, nil, &out); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tPUBLIC\tADMIN\tVERSION\tLOAD")
	for _, m := range out.Members {
		name := m.Name
		if m.Self {
			name += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\n", name, m.State, m.PublicAddr, m.AdminAddr, m.Version, m.InFlight, m.Limit)
	}
	return tw.Flush()
}
