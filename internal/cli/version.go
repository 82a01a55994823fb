package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/wedge-run/wedge/internal/node"
)

// versionString is "wedge VERSION (COMMIT[+dirty], GO)": the release
// from node.Version, the commit and toolchain from the binary's build
// information (stamped by go build in a git checkout).
func versionString() string {
	s := "wedge " + node.Version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	var rev, dirty string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return fmt.Sprintf("%s (%s)", s, bi.GoVersion)
	}
	return fmt.Sprintf("%s (%s%s, %s)", s, rev, dirty, bi.GoVersion)
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version (also: wedge --version)",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(e.stdout, versionString())
			return nil
		},
	}
}
