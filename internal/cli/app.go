package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/manifest"
)

// deployApp deploys the app described by DIR/wedge.toml (or a path to
// the file): it checks the manifest, runs the build commands, reads the
// modules and uploads everything in one request, then prints what changed.
func deployApp(e *env, path string, newClient func() (*client.Client, error), skipBuild bool, out *output) error {
	start := time.Now()
	// Progress goes to stderr when stdout carries JSON.
	var progress io.Writer = e.stdout
	if out.json() {
		progress = e.stderr
	}
	app, err := manifest.Load(path)
	if err != nil {
		return err
	}
	if err := app.ResolveSecrets(os.LookupEnv); err != nil {
		return err
	}
	if !skipBuild {
		for i := range app.Functions {
			f := &app.Functions[i]
			cmd := app.BuildCommand(e.ctx, f)
			if cmd == nil {
				continue
			}
			fmt.Fprintf(progress, "  %6.1fs building %s: %s\n", time.Since(start).Seconds(), f.Name, f.Build)
			cmd.Stdout, cmd.Stderr = progress, e.stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("building %s (%s): %w", f.Name, f.Build, err)
			}
		}
	}
	if err := app.Check(); err != nil {
		return err
	}
	spec, err := app.Spec()
	if err != nil {
		return err
	}
	modules := map[string][]byte{}
	total := 0
	for i := range app.Functions {
		f := &app.Functions[i]
		b, err := os.ReadFile(app.ModulePath(f))
		if err != nil {
			return err
		}
		modules[f.Name] = b
		total += len(b)
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "deploying app %s: %d function(s), %s\n", app.Name, len(modules), size(total))
	changes, err := cl.DeployAppProgress(e.ctx, app.Name, spec, modules, progressPrinter(progress, start, true))
	if err != nil {
		return err
	}
	if out.json() {
		if changes == nil {
			changes = []client.AppChange{}
		}
		return writeJSON(e.stdout, changes)
	}
	fmt.Fprintf(e.stdout, "app %s (%s) in %.1fs:\n", app.Name, filepath.Join(app.Dir, manifest.FileName), time.Since(start).Seconds())
	for _, c := range changes {
		if c.Action == "removed" {
			fmt.Fprintf(e.stdout, "  %-9s %s\n", c.Action, c.Function)
			continue
		}
		fmt.Fprintf(e.stdout, "  %-9s %s (version %d)\n", c.Action, c.Function, c.Version)
	}
	return nil
}
