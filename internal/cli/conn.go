package cli

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/wedge-run/wedge/client"
)

// defaultAdmin is the admin API of a node started with no flags.
const defaultAdmin = "http://127.0.0.1:8081"

// connInfo is where a client command sent its requests and where its
// token came from, so that an error can say what to change.
type connInfo struct {
	admin       string
	adminSource string // "--admin", "WEDGE_ADMIN" or "the default"
	tokenSource string // "--token", "WEDGE_ADMIN_TOKEN" or the file's path
}

// clientFlags adds --admin and --token to c and returns a constructor
// for the client, which records the sources it used in e.conn.
func clientFlags(e *env, c *cobra.Command) func() (*client.Client, error) {
	var admin, token string
	c.Flags().StringVar(&admin, "admin", "", "admin API `URL` (env WEDGE_ADMIN; default "+defaultAdmin+")")
	c.Flags().StringVar(&token, "token", "", "admin `TOKEN` (env WEDGE_ADMIN_TOKEN; default: wedge-data/admin-token here or in a parent directory)")
	return func() (*client.Client, error) {
		info := &connInfo{admin: admin, adminSource: "--admin", tokenSource: "--token"}
		if admin == "" {
			info.admin, info.adminSource = os.Getenv("WEDGE_ADMIN"), "WEDGE_ADMIN"
			if info.admin == "" {
				info.admin, info.adminSource = defaultAdmin, "the default"
			}
		}
		tok := token
		if tok == "" {
			tok, info.tokenSource = os.Getenv("WEDGE_ADMIN_TOKEN"), "WEDGE_ADMIN_TOKEN"
		}
		if tok == "" {
			tok, info.tokenSource = findLocalToken()
		}
		e.conn = info
		if tok == "" {
			return nil, errors.New("no admin token: none given with --token or WEDGE_ADMIN_TOKEN, and no wedge-data/admin-token here or in a parent directory; pass --token or set WEDGE_ADMIN_TOKEN (a node started without one stores its generated token in DATA/admin-token and prints where)")
		}
		return client.New(info.admin, tok), nil
	}
}

// explain rewrites the errors a newcomer meets into what to do next.
func explain(err error, info *connInfo) error {
	if info == nil {
		return err
	}
	if client.IsStatus(err, http.StatusUnauthorized) {
		return fmt.Errorf("401: the token from %s was refused by %s; pass --token or set WEDGE_ADMIN_TOKEN", info.tokenSource, info.admin)
	}
	var op *net.OpError
	if errors.As(err, &op) && errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("no node answers at %s (from %s): start one with `wedge serve`, or pass --admin URL or set WEDGE_ADMIN", info.admin, info.adminSource)
	}
	return err
}

// findLocalToken reads wedge-data/admin-token from the current directory
// or the nearest parent that has one: the token a local `wedge serve`
// generated, so that commands run from a function's folder just work.
// It returns the token and the file's path (relative to the working
// directory, as the user would type it).
func findLocalToken() (string, string) {
	wd, err := os.Getwd()
	if err != nil {
		return "", "./wedge-data/admin-token"
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "wedge-data", "admin-token")
		if b, err := os.ReadFile(p); err == nil {
			if rel, err := filepath.Rel(wd, p); err == nil {
				if !strings.HasPrefix(rel, "..") {
					rel = "./" + rel
				}
				p = rel
			}
			return strings.TrimSpace(string(b)), p
		}
		if filepath.Dir(d) == d {
			return "", "./wedge-data/admin-token"
		}
	}
}

// completeFunctions completes a function name from the node's list (for
// rm, logs); nothing when the node cannot be asked.
func completeFunctions(e *env, newClient func() (*client.Client, error)) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cl, err := newClient()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		fns, err := cl.List(e.ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, f := range fns {
			out = append(out, cobra.CompletionWithDesc(f.Name, strings.Join(f.Routes, " ")))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
