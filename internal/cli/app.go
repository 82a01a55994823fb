package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/manifest"
)

// deployApp deploys the app described by DIR/wedge.toml (or a path to
// the file): it checks the manifest, runs the build commands, reads the
// modules and uploads everything in one request, then prints what changed.
func deployApp(e *env, path string, newClient func() (*client.Client, error), skipBuild bool) error {
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
			fmt.Fprintf(e.stdout, "building %s: %s\n", f.Name, f.Build)
			cmd.Stdout, cmd.Stderr = e.stdout, e.stderr
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
	for i := range app.Functions {
		f := &app.Functions[i]
		b, err := os.ReadFile(app.ModulePath(f))
		if err != nil {
			return err
		}
		modules[f.Name] = b
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	changes, err := cl.DeployApp(e.ctx, app.Name, spec, modules)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "app %s (%s):\n", app.Name, filepath.Join(app.Dir, manifest.FileName))
	for _, c := range changes {
		if c.Action == "removed" {
			fmt.Fprintf(e.stdout, "  %-9s %s\n", c.Action, c.Function)
			continue
		}
		fmt.Fprintf(e.stdout, "  %-9s %s (version %d)\n", c.Action, c.Function, c.Version)
	}
	return nil
}
