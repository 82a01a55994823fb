package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wedge-run/wedge/client"
)

// cmdKV: wedge kv get|put|rm|ls|incr ...
func cmdKV(e *env, args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	sub, args := args[0], args[1:]
	fs := newFlags("kv "+sub, e)
	ttl := fs.Duration("ttl", 0, "put: expire the key after this long")
	ifVersion := fs.Int64("if-version", -1, "put/rm: only if the key's current version is this (0: only if absent)")
	prefix := fs.String("prefix", "", "ls: only keys starting with this")
	limit := fs.Int("limit", 0, "ls: at most this many keys (default: all)")
	newClient := clientFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	var ifv *uint64
	if *ifVersion >= 0 {
		v := uint64(*ifVersion)
		ifv = &v
	}
	switch sub {
	case "get":
		if len(pos) != 2 {
			return errUsage
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
	case "put":
		if len(pos) != 3 {
			return errUsage
		}
		val, err := readValue(e, pos[2])
		if err != nil {
			return err
		}
		ver, err := cl.KVPut(e.ctx, pos[0], pos[1], val, client.KVPutOptions{TTL: *ttl, IfVersion: ifv})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s/%s version %d\n", pos[0], pos[1], ver)
		return nil
	case "rm":
		if len(pos) != 2 {
			return errUsage
		}
		return cl.KVDelete(e.ctx, pos[0], pos[1], ifv)
	case "incr":
		if len(pos) < 2 || len(pos) > 3 {
			return errUsage
		}
		delta := int64(1)
		if len(pos) == 3 {
			if _, err := fmt.Sscan(pos[2], &delta); err != nil {
				return fmt.Errorf("delta %q: %w", pos[2], err)
			}
		}
		n, err := cl.KVIncrement(e.ctx, pos[0], pos[1], delta)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, n)
		return nil
	case "ls":
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		defer tw.Flush()
		if len(pos) == 0 {
			nss, err := cl.KVNamespaces(e.ctx)
			if err != nil {
				return err
			}
			fmt.Fprintln(tw, "NAMESPACE\tKEYS\tBYTES")
			for _, n := range nss {
				fmt.Fprintf(tw, "%s\t%d\t%d\n", n.Name, n.Keys, n.Bytes)
			}
			return nil
		}
		if len(pos) != 1 {
			return errUsage
		}
		fmt.Fprintln(tw, "KEY\tVERSION\tEXPIRES")
		cursor, shown := "", 0
		for {
			keys, next, err := cl.KVList(e.ctx, pos[0], *prefix, cursor, 1000)
			if err != nil {
				return err
			}
			for _, k := range keys {
				exp := "-"
				if !k.Expires.IsZero() {
					exp = k.Expires.Local().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\n", k.Key, k.Version, exp)
				if shown++; *limit > 0 && shown >= *limit {
					return nil
				}
			}
			if next == "" {
				return nil
			}
			cursor = next
		}
	}
	return fmt.Errorf("unknown kv command %q (get, put, rm, incr, ls)", sub)
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
