package cli

import "fmt"

// cmdPromote ends a gradual rollout (deploy --traffic): the new version
// serves every request.
func cmdPromote(e *env, args []string) error {
	fs := newFlags("promote", e)
	newClient := clientFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errUsage
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	f, err := cl.Promote(e.ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: version %d serves every request\n", f.Name, f.Version)
	return nil
}
