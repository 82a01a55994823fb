package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newPromoteCmd ends a gradual rollout (deploy --traffic): the new
// version serves every request.
func newPromoteCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "promote NAME",
		Short: "end a gradual rollout: the new version serves every request",
		Example: `  wedge deploy hello hello.wasm --route /hello --traffic 10
  wedge promote hello`,
		Args: exactArgs(1),
	}
	newClient := clientFlags(e, c)
	c.RunE = func(_ *cobra.Command, pos []string) error {
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
	return c
}
