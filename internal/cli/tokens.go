package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"
)

// cmdTokens creates, lists and revokes the node's scoped admin tokens
// (replicated to every node of a cluster).
func cmdTokens(e *env, args []string) error {
	fs := newFlags("tokens", e)
	scope := fs.String("scope", "", "create: what the token may do: read (GET endpoints), kv (the KV API), deploy (deploy and delete functions and apps, and read), admin (everything)")
	pattern := fs.String("functions", "", "create: restrict the token to functions and apps whose name matches the glob `PATTERN` (e.g. 'chat-*')")
	output := fs.String("output", "table", "list: table or json")
	newClient := clientFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		pos = []string{"list"}
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	switch {
	case pos[0] == "create" && len(pos) == 2:
		if *scope == "" {
			return fmt.Errorf("--scope is required: read, kv, deploy or admin")
		}
		t, err := cl.CreateToken(e.ctx, pos[1], *scope, *pattern)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "token %q created (scope %s%s); its secret is shown only this once:\n", t.Name, t.Scope, patternNote(t.Functions))
		fmt.Fprintln(e.stdout, t.Secret)
		return nil
	case pos[0] == "revoke" && len(pos) == 2:
		if err := cl.RevokeToken(e.ctx, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %q revoked\n", pos[1])
		return nil
	case pos[0] == "list" && len(pos) == 1:
		toks, err := cl.Tokens(e.ctx)
		if err != nil {
			return err
		}
		if *output == "json" {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(toks)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPE\tFUNCTIONS\tCREATED\tBY\tLAST USED")
		for _, t := range toks {
			created, last := "-", "never"
			if !t.Created.IsZero() {
				created = t.Created.Local().Format(time.DateTime)
			}
			if t.LastUsed != nil {
				last = t.LastUsed.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Scope, orDash(t.Functions), created, orDash(t.CreatedBy), last)
		}
		return tw.Flush()
	}
	return errUsage
}

func patternNote(p string) string {
	if p == "" {
		return ""
	}
	return ", functions " + p
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
