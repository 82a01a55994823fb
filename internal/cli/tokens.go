package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// newTokensCmd creates, lists and revokes the node's scoped admin tokens
// (replicated to every node of a cluster).
func newTokensCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "tokens [list] | tokens create NAME --scope read|kv|deploy|admin [--functions PATTERN] | tokens revoke NAME",
		Short: "manage scoped admin tokens",
		Long: `List, create and revoke the node's admin tokens (replicated to every node of
a cluster). A token's scope says what it may do: read (GET endpoints), kv (the
KV API), deploy (deploy and delete functions and apps, and read), admin
(everything); --functions restricts it to functions and apps whose name
matches a glob. A new token's secret is printed once, on stdout.`,
		Example: `  wedge tokens create ci --scope deploy --functions 'chat-*'
  wedge tokens list -o json
  wedge tokens revoke ci`,
		Args: exactArgs(0),
	}
	out := outputFlag(c)
	newClient := clientFlags(e, c)
	list := func(*cobra.Command, []string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		toks, err := cl.Tokens(e.ctx)
		if err != nil {
			return err
		}
		if out.json() {
			return writeJSON(e.stdout, toks)
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
	c.RunE = list
	var scope, pattern string
	create := &cobra.Command{Use: "create NAME --scope read|kv|deploy|admin", Short: "create a token and print its secret (once)", Args: exactArgs(1),
		Example: `  wedge tokens create grafana --scope read`,
		RunE: func(_ *cobra.Command, pos []string) error {
			if scope == "" {
				return usageError("--scope is required: read, kv, deploy or admin")
			}
			cl, err := newClient()
			if err != nil {
				return err
			}
			t, err := cl.CreateToken(e.ctx, pos[0], scope, pattern)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "token %q created (scope %s%s); its secret is shown only this once:\n", t.Name, t.Scope, patternNote(t.Functions))
			fmt.Fprintln(e.stdout, t.Secret)
			return nil
		}}
	create.Flags().StringVar(&scope, "scope", "", "what the token may do: read (GET endpoints), kv (the KV API), deploy (deploy and delete functions and apps, and read), admin (everything)")
	create.Flags().StringVar(&pattern, "functions", "", "restrict the token to functions and apps whose name matches the glob `PATTERN` (e.g. 'chat-*')")
	_ = create.RegisterFlagCompletionFunc("scope", cobra.FixedCompletions([]string{"read", "kv", "deploy", "admin"}, cobra.ShellCompDirectiveNoFileComp))
	revoke := &cobra.Command{Use: "revoke NAME", Short: "revoke a token", Args: exactArgs(1),
		RunE: func(_ *cobra.Command, pos []string) error {
			cl, err := newClient()
			if err != nil {
				return err
			}
			if err := cl.RevokeToken(e.ctx, pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "token %q revoked\n", pos[0])
			return nil
		}}
	c.AddCommand(&cobra.Command{Use: "list", Short: "list the tokens: name, scope, pattern, creator, last use", Args: exactArgs(0), RunE: list}, create, revoke)
	// The subcommands share the parent's --output, --admin and --token.
	for _, sub := range c.Commands() {
		sub.Flags().AddFlagSet(c.Flags())
		sub.PreRunE = c.PreRunE
	}
	return c
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
