package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/wedge-run/wedge/client"
)

// newKVCmd: wedge kv get|put|rm|incr|ls ...
func newKVCmd(e *env) *cobra.Command {
	kv := group(&cobra.Command{
		Use:   "kv get|put|rm|incr|ls",
		Short: "read and write the key-value store",
		Example: `  wedge kv put app greeting 'hello' --ttl 1h
  wedge kv put app config @config.json      # the value from a file (- reads stdin)
  wedge kv get app greeting
  wedge kv incr app visits
  wedge kv ls app --prefix user/ -o json
  wedge kv ls                               # namespaces`,
	})
	kv.AddCommand(newKVGetCmd(e), newKVPutCmd(e), newKVRemoveCmd(e), newKVIncrCmd(e), newKVListCmd(e))
	return kv
}

// ifVersionFlag adds --if-version and returns its value as the client
// takes it (nil: unset).
func ifVersionFlag(c *cobra.Command, what string) func() *uint64 {
	v := c.Flags().Int64("if-version", -1, what+" only if the key's current version is `V` (0: only if absent)")
	return func() *uint64 {
		if *v < 0 {
			return nil
		}
		u := uint64(*v)
		return &u
	}
}

func newKVGetCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "get NAMESPACE KEY", Short: "print a value", Args: exactArgs(2),
		Example: `  wedge kv get app greeting`}
	newClient := clientFlags(e, c)
	c.RunE = func(_ *cobra.Command, pos []string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		v, _, err := cl.KVGet(e.ctx, pos[0], pos[1])
		if err != nil {
			return err
		}
		e.stdout.Write(v)
		if len(v) > 0 && v[len(v)-1] != '\n' && isTerminal(e.stdout) {
			fmt.Fprintln(e.stdout)
		}
		return nil
	}
	return c
}

func newKVPutCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "put NAMESPACE KEY VALUE|@FILE|-", Short: "store a value (from the argument, a file, or stdin)", Args: exactArgs(3),
		Example: `  wedge kv put app greeting 'hello' --ttl 1h
  wedge kv put app photo @cat.png
  echo hi | wedge kv put app greeting -`}
	ttl := c.Flags().Duration("ttl", 0, "expire the key after this long")
	ifVersion := ifVersionFlag(c, "store")
	newClient := clientFlags(e, c)
	c.RunE = func(_ *cobra.Command, pos []string) error {
		val, err := readValue(e, pos[2])
		if err != nil {
			return err
		}
		cl, err := newClient()
		if err != nil {
			return err
		}
		ver, err := cl.KVPut(e.ctx, pos[0], pos[1], val, client.KVPutOptions{TTL: *ttl, IfVersion: ifVersion()})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s/%s version %d\n", pos[0], pos[1], ver)
		return nil
	}
	return c
}

func newKVRemoveCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "rm NAMESPACE KEY", Short: "delete a key", Args: exactArgs(2),
		Example: `  wedge kv rm app greeting`}
	ifVersion := ifVersionFlag(c, "delete")
	newClient := clientFlags(e, c)
	c.RunE = func(_ *cobra.Command, pos []string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		return cl.KVDelete(e.ctx, pos[0], pos[1], ifVersion())
	}
	return c
}

func newKVIncrCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "incr NAMESPACE KEY [DELTA]", Short: "add DELTA (default 1) to a counter atomically and print it", Args: rangeArgs(2, 3),
		Example: `  wedge kv incr app visits
  wedge kv incr app visits -- -5`}
	newClient := clientFlags(e, c)
	c.RunE = func(_ *cobra.Command, pos []string) error {
		delta := int64(1)
		if len(pos) == 3 {
			if _, err := fmt.Sscan(pos[2], &delta); err != nil {
				return usageError("delta %q: want an integer", pos[2])
			}
		}
		cl, err := newClient()
		if err != nil {
			return err
		}
		n, err := cl.KVIncrement(e.ctx, pos[0], pos[1], delta)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, n)
		return nil
	}
	return c
}

func newKVListCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "ls [NAMESPACE]", Short: "list a namespace's keys, or the namespaces", Args: rangeArgs(0, 1),
		Example: `  wedge kv ls
  wedge kv ls app --prefix user/
  wedge kv ls app -o json`}
	prefix := c.Flags().String("prefix", "", "only keys starting with `PREFIX`")
	limit := c.Flags().Int("limit", 0, "at most `N` keys (default: all)")
	out := outputFlag(c)
	newClient := clientFlags(e, c)
	c.RunE = func(_ *cobra.Command, pos []string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		if len(pos) == 0 {
			nss, err := cl.KVNamespaces(e.ctx)
			if err != nil {
				return err
			}
			if out.json() {
				if nss == nil {
					nss = []client.KVNamespace{}
				}
				return writeJSON(e.stdout, nss)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAMESPACE\tKEYS\tBYTES")
			for _, n := range nss {
				fmt.Fprintf(tw, "%s\t%d\t%d\n", n.Name, n.Keys, n.Bytes)
			}
			return tw.Flush()
		}
		all := []client.KVKey{}
		cursor := ""
		for {
			keys, next, err := cl.KVList(e.ctx, pos[0], *prefix, cursor, 1000)
			if err != nil {
				return err
			}
			all = append(all, keys...)
			if *limit > 0 && len(all) >= *limit {
				all = all[:*limit]
				break
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if out.json() {
			return writeJSON(e.stdout, all)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tVERSION\tEXPIRES")
		for _, k := range all {
			exp := "-"
			if !k.Expires.IsZero() {
				exp = k.Expires.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\n", k.Key, k.Version, exp)
		}
		return tw.Flush()
	}
	return c
}

// readValue reads VALUE, @file or - (stdin).
func readValue(e *env, arg string) ([]byte, error) {
	switch {
	case arg == "-":
		return io.ReadAll(io.LimitReader(e.stdin, 1<<20+1))
	case strings.HasPrefix(arg, "@"):
		b, err := os.ReadFile(arg[1:])
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file (a value starting with @ names a file)", arg[1:])
		}
		return b, err
	}
	return []byte(arg), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
