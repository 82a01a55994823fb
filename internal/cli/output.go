package cli

import (
	"encoding/json"
	"io"

	"github.com/spf13/cobra"
)

// output is the --output (-o) flag of a listing command: a table for
// people (text, the default) or JSON for programs.
type output struct{ format string }

func outputFlag(c *cobra.Command) *output {
	o := &output{}
	c.Flags().StringVarP(&o.format, "output", "o", "text", "output `FORMAT`: text or json")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	prev := c.PreRunE
	c.PreRunE = func(c *cobra.Command, args []string) error {
		if o.format != "text" && o.format != "json" {
			return usageError("--output %q: want text or json", o.format)
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
	return o
}

func (o *output) json() bool { return o.format == "json" }

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonLine is v as one line of JSON.
func jsonLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(b, '\n'), err
}
