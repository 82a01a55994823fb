package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
)

// cmdKeys lists the gossip keys of every member, or runs one step of a
// key rotation on all of them: install NEW, use NEW, remove OLD.
func cmdKeys(e *env, args []string) error {
	fs := newFlags("keys", e)
	newClient := clientFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	var out struct {
		Op    string `json:"op"`
		Nodes []struct {
			Node    string   `json:"node"`
			Primary string   `json:"primary"`
			Keys    []string `json:"keys"`
			Error   string   `json:"error"`
		} `json:"nodes"`
		Failed int `json:"failed"`
	}
	switch {
	case len(pos) == 0 || len(pos) == 1 && pos[0] == "list":
		if _, err := cl.Do(e.ctx, "GET", "/v1/cluster/keys", nil, nil, nil, &out); err != nil {
			return err
		}
	case len(pos) == 2 && (pos[0] == "install" || pos[0] == "use" || pos[0] == "remove"):
		body, _ := json.Marshal(map[string]string{"op": pos[0], "key": pos[1]})
		if _, err := cl.Do(e.ctx, "POST", "/v1/cluster/keys", nil, bytes.NewReader(body), nil, &out); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: wedge keys [list] | install|use|remove KEY", errUsage)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPRIMARY\tKEYS\tERROR")
	for _, n := range out.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Node, n.Primary, strings.Join(n.Keys, ","), n.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.Failed > 0 {
		return fmt.Errorf("%d of %d nodes did not take the change: run the same command again once they are back", out.Failed, len(out.Nodes))
	}
	return nil
}
