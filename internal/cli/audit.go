package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/wedge-run/wedge/client"
)

// newAuditCmd prints the node's audit log: the admin requests it served,
// with the token each came with.
func newAuditCmd(e *env) *cobra.Command {
	var q client.AuditQuery
	c := &cobra.Command{
		Use:   "audit",
		Short: "show the node's log of admin requests",
		Example: `  wedge audit --since 1h
  wedge audit --token-name ci -o json`,
		Args: exactArgs(0),
	}
	c.Flags().StringVar(&q.Since, "since", "", "only requests since `WHEN`: an RFC 3339 time or a duration back from now (1h)")
	c.Flags().StringVar(&q.Token, "token-name", "", "only requests made with the token `NAME`")
	c.Flags().IntVar(&q.Limit, "limit", 100, "the most recent `N` requests (at most 10000)")
	out := outputFlag(c)
	newClient := clientFlags(e, c)
	c.RunE = func(*cobra.Command, []string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		entries, err := cl.Audit(e.ctx, q)
		if err != nil {
			return err
		}
		if out.json() {
			return writeJSON(e.stdout, entries)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tTOKEN\tMETHOD\tPATH\tSTATUS\tFROM")
		for _, a := range entries {
			tok := a.Token
			if tok == "" {
				tok = "(none)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", a.Time.Local().Format(time.DateTime), tok, a.Method, a.Path, a.Status, a.Remote)
		}
		return tw.Flush()
	}
	return c
}
