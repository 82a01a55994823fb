package cli

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/wedge-run/wedge/internal/devloop"
)

// cmdDev runs the inner loop: a dev node, build, deploy, watch, redeploy
// (internal/devloop).
func cmdDev(e *env, args []string) error {
	fs := newFlags("dev", e)
	admin := fs.String("admin", os.Getenv("WEDGE_ADMIN"), "deploy to the node whose admin API is at `URL` (env WEDGE_ADMIN) instead of starting one")
	token := fs.String("token", "", "admin `token` for --admin (env WEDGE_ADMIN_TOKEN; default: wedge-data/admin-token here or in a parent directory)")
	public := fs.String("public", os.Getenv("WEDGE_PUBLIC"), "public gateway `URL` of the --admin node, to print where to try the functions (env WEDGE_PUBLIC)")
	data := fs.String("data", "", "data `DIR` of the node wedge dev starts (default DIR/.wedge-dev)")
	httpAddr := fs.String("http", "127.0.0.1:0", "public gateway listen `ADDR` of the node wedge dev starts (default: a free port)")
	adminAddr := fs.String("admin-addr", "127.0.0.1:0", "admin API listen `ADDR` of the node wedge dev starts (default: a free port)")
	name := fs.String("name", "", "a single function's `NAME` (default: the one its Makefile deploys, else the directory's name)")
	var routes multi
	fs.Var(&routes, "route", "a single function's route `PATH` (repeatable; default: its Makefile's, else /NAME/...)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return errUsage
	}
	opts := devloop.Options{Dir: ".", Admin: *admin, Public: *public, DataDir: *data, HTTPAddr: *httpAddr, AdminAddr: *adminAddr,
		Name: *name, Routes: routes, Stdout: e.stdout, Stderr: e.stderr}
	if len(pos) == 1 {
		opts.Dir = pos[0]
	}
	if opts.Admin != "" {
		opts.Token, opts.TokenSource = *token, "--token"
		if opts.Token == "" {
			opts.Token, opts.TokenSource = os.Getenv("WEDGE_ADMIN_TOKEN"), "WEDGE_ADMIN_TOKEN"
		}
		if opts.Token == "" {
			opts.Token, opts.TokenSource = findLocalToken(), "wedge-data/admin-token (here or in a parent directory)"
		}
		if opts.Token == "" {
			return errors.New("no admin token for --admin: pass --token or set WEDGE_ADMIN_TOKEN")
		}
	}
	// Once Ctrl-C stopped the loop, a second one ends the process at once.
	go func() {
		<-e.ctx.Done()
		signal.Reset(os.Interrupt, syscall.SIGTERM)
	}()
	return devloop.Run(e.ctx, opts)
}
