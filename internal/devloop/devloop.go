package devloop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/wedge-run/wedge/internal/node"
)

// Options configure Run. Only Dir is required.
type Options struct {
	// Dir is the project: a directory holding wedge.toml, or a single
	// function's directory (see Load).
	Dir string

	// Admin is the admin API URL of an existing node to deploy to; empty
	// starts a node of the loop's own, stopped when Run returns.
	Admin string
	// Token is the admin token for Admin, and TokenSource says where it
	// came from ("--token", "WEDGE_ADMIN_TOKEN", a file), for the banner.
	Token, TokenSource string
	// Public is Admin's node's public gateway URL, for the "try" lines;
	// optional.
	Public string

	// DataDir is the own node's data directory; default Dir/.wedge-dev.
	DataDir string
	// HTTPAddr and AdminAddr are the own node's listen addresses; default
	// 127.0.0.1:0 (a free port each).
	HTTPAddr, AdminAddr string
	// NodeConfig, if set, adjusts the own node's configuration before it
	// starts (tests share an artifact directory this way).
	NodeConfig func(*node.Config)

	// Name and Routes override a single function's name and routes (by
	// default the ones its Makefile deploys with, else the directory's
	// name and /NAME/...). Apps take both from wedge.toml.
	Name   string
	Routes []string

	// Quiet is how long the files must stay unchanged before a round
	// starts (default 30ms): an editor's save is a burst of events.
	Quiet time.Duration

	// Stdout receives the loop's messages and the functions' logs;
	// Stderr the own node's warnings. Default os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
}

// DataDirName is the own node's data directory inside the project.
const DataDirName = ".wedge-dev"

// Run builds and deploys the project in opts.Dir, then rebuilds and
// redeploys it on every change until ctx ends. It returns nil when ctx
// ends, and an error when the project cannot be read or the node cannot
// be reached at the start. Build and deploy failures during the loop are
// printed, not returned.
func Run(ctx context.Context, opts Options) error {
	if opts.Dir == "" {
		opts.Dir = "."
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err != nil {
		return err
	} else if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", opts.Dir)
	}
	opts.Dir = dir
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join(dir, DataDirName)
	}
	if opts.DataDir, err = filepath.Abs(opts.DataDir); err != nil {
		return err
	}
	if opts.Quiet <= 0 {
		opts.Quiet = 30 * time.Millisecond
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	out := newPrinter(opts.Stdout)

	proj, err := Load(dir, opts.Name, opts.Routes)
	if err != nil {
		return err
	}
	w, err := newWatcher(dir, opts.Quiet)
	if err != nil {
		return fmt.Errorf("watching %s: %w", dir, err)
	}
	defer w.Close()
	w.ignore(opts.DataDir)

	tgt, err := connect(ctx, opts, out)
	if err != nil {
		return err
	}
	defer tgt.close()

	l := &loop{out: out, proj: proj, dep: newDeployer(tgt.client), logs: newLogStreams(ctx, tgt.client, out), w: w}
	defer l.logs.stop()
	out.printf("%s\n", proj.describe())
	for _, f := range proj.Functions {
		for _, r := range f.Routes {
			out.printf("  try  curl %s%s\n", tgt.public, tryPath(r))
		}
	}
	l.first(ctx)
	out.printf("watching %s for changes; Ctrl-C to stop\n", dir)
	for {
		select {
		case <-ctx.Done():
			out.printf("stopping\n")
			return nil
		case b, ok := <-w.batches():
			if !ok {
				if err := w.err(); err != nil && !errors.Is(err, context.Canceled) {
					return fmt.Errorf("watching %s: %w", dir, err)
				}
				return nil
			}
			l.round(ctx, b)
		}
	}
}
