package cli

import (
	"fmt"
	"strconv"
)

// cmdRollback makes a kept version of a function the active one again
// (default: the one before the active version).
func cmdRollback(e *env, args []string) error {
	fs := newFlags("rollback", e)
	newClient := clientFlags(fs)
	app := fs.String("app", "", "roll back every function of `APP` to its version before the app's last deploy")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *app != "" && len(pos) == 0 {
		cl, err := newClient()
		if err != nil {
			return err
		}
		changes, err := cl.RollbackApp(e.ctx, *app)
		if err != nil {
			return err
		}
		for _, c := range changes {
			fmt.Fprintf(e.stdout, "%s: %s (version %d)\n", c.Function, c.Action, c.Version)
		}
		return nil
	}
	if len(pos) < 1 || len(pos) > 2 {
		return errUsage
	}
	var version int64
	if len(pos) == 2 {
		if version, err = strconv.ParseInt(pos[1], 10, 64); err != nil || version < 1 {
			return fmt.Errorf("rollback %s: VERSION must be a positive integer, got %q", pos[0], pos[1])
		}
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	f, err := cl.Rollback(e.ctx, pos[0], version)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: version %d is active (sha256 %.12s)\n", f.Name, f.Version, f.SHA256)
	return nil
}
