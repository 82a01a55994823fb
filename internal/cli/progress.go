package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/wedge-run/wedge/client"
)

// progressPrinter prints a deploy's steps, one line each with the time
// since the command started: the upload's bytes, then each phase the
// node reports (per function for an app), so that a deploy that takes
// a while is never silent.
func progressPrinter(w io.Writer, start time.Time, showFunction bool) func(client.Progress) {
	return func(p client.Progress) {
		el := time.Since(start).Seconds()
		switch p.Phase {
		case "uploading":
			fmt.Fprintf(w, "  %6.1fs uploading %s of %s\n", el, size(int(p.Bytes)), size(int(p.Total)))
		case "uploaded":
			fmt.Fprintf(w, "  %6.1fs uploaded %s\n", el, size(int(p.Bytes)))
		default:
			if showFunction && p.Function != "" {
				fmt.Fprintf(w, "  %6.1fs %-18s %s\n", el, p.Phase, p.Function)
				return
			}
			fmt.Fprintf(w, "  %6.1fs %s\n", el, p.Phase)
		}
	}
}
