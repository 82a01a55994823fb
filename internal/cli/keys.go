package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// keysResult is the answer of GET and POST /v1/cluster/keys.
type keysResult struct {
	Op    string `json:"op,omitempty"`
	Nodes []struct {
		Node    string   `json:"node"`
		Primary string   `json:"primary"`
		Keys    []string `json:"keys"`
		Error   string   `json:"error,omitempty"`
	} `json:"nodes"`
	Failed int `json:"failed"`
}

// newKeysCmd lists the gossip keys of every member, or runs one step of a
// key rotation on all of them: install NEW, use NEW, remove OLD.
func newKeysCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "keys [list] | keys install|use|remove KEY",
		Short: "list or rotate the cluster's gossip keys on every node",
		Long: `List every member's gossip keys (as fingerprints), or run one step of a key
rotation on every member at once: install NEW, then use NEW, then remove OLD.
KEY is base64 of 16, 24 or 32 bytes.`,
		Example: `  wedge keys
  NEW=$(head -c 32 /dev/urandom | base64)
  wedge keys install "$NEW" && wedge keys use "$NEW" && wedge keys remove "$OLD"`,
		Args: exactArgs(0),
	}
	out := outputFlag(c)
	newClient := clientFlags(e, c)
	run := func(op, key string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		var res keysResult
		if op == "" {
			_, err = cl.Do(e.ctx, "GET", "/v1/cluster/keys", nil, nil, nil, &res)
		} else {
			body, _ := json.Marshal(map[string]string{"op": op, "key": key})
			_, err = cl.Do(e.ctx, "POST", "/v1/cluster/keys", nil, bytes.NewReader(body), nil, &res)
		}
		if err != nil {
			return err
		}
		if out.json() {
			if err := writeJSON(e.stdout, res); err != nil {
				return err
			}
		} else {
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NODE\tPRIMARY\tKEYS\tERROR")
			for _, n := range res.Nodes {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Node, n.Primary, strings.Join(n.Keys, ","), n.Error)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if res.Failed > 0 {
			return fmt.Errorf("%d of %d nodes did not take the change: run the same command again once they are back", res.Failed, len(res.Nodes))
		}
		return nil
	}
	c.RunE = func(*cobra.Command, []string) error { return run("", "") }
	list := &cobra.Command{Use: "list", Short: "list every member's gossip keys", Args: exactArgs(0),
		RunE: func(*cobra.Command, []string) error { return run("", "") }}
	c.AddCommand(list)
	for _, op := range []struct{ name, short string }{
		{"install", "add KEY to every member's keyring (step 1 of a rotation)"},
		{"use", "make KEY every member's primary key (step 2)"},
		{"remove", "remove KEY from every member's keyring (step 3, the old key)"},
	} {
		c.AddCommand(&cobra.Command{Use: op.name + " KEY", Short: op.short, Args: exactArgs(1),
			RunE: func(_ *cobra.Command, pos []string) error { return run(op.name, pos[0]) }})
	}
	// The subcommands share the parent's --output, --admin and --token.
	for _, sub := range c.Commands() {
		sub.Flags().AddFlagSet(c.Flags())
		sub.PreRunE = c.PreRunE
	}
	return c
}
