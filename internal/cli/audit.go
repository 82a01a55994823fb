package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/wedge-run/wedge/client"
)

// cmdAudit prints the node's audit log: the admin requests it served,
// with the token each came with.
func cmdAudit(e *env, args []string) error {
	fs := newFlags("audit", e)
	var q client.AuditQuery
	fs.StringVar(&q.Since, "since", "", "only requests since `WHEN`: an RFC 3339 time or a duration back from now (1h)")
	fs.StringVar(&q.Token, "token-name", "", "only requests made with the token `NAME`")
	fs.IntVar(&q.Limit, "limit", 100, "the most recent `N` requests (at most 10000)")
	output := fs.String("output", "table", "table or json")
	newClient := clientFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errUsage
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	entries, err := cl.Audit(e.ctx, q)
	if err != nil {
		return err
	}
	if *output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
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
