package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
	"github.com/wedge-run/wedge/model"
)

func newDeployCmd(e *env) *cobra.Command {
	var (
		routes, config, grants, allowHosts []string
		timeout, outTimeout                time.Duration
		outMaxBytes                        int64
		outMaxReqs                         int
		memory                             int64
		ns, affinity                       string
		noSnap, noBuild                    bool
		traffic                            int
		trafficKey                         string
	)
	c := &cobra.Command{
		Use:   "deploy NAME FILE.wasm|FILE.js --route PATH... | deploy [DIR|FILE.toml]",
		Short: "deploy a function, or the app described by DIR/wedge.toml",
		Long: `Deploy a function: NAME is its name, FILE.wasm a WebAssembly module (or
FILE.js a JavaScript module for wedge's JavaScript engine); --route says
which paths it serves (/exact or /prefix/...; repeatable).

With a directory (default: the current one) or a .toml file: deploy the app
its wedge.toml describes, running each function's build command first.

The deploy prints its progress: the upload, then compiling, snapshotting
and compiling snapshot (pre-initializing a module that has an
initializer, and compiling the result) and ready, with the time since the
command started.`,
		Example: `  wedge deploy hi hi.wasm --route /hi
  wedge deploy api api.wasm --route '/api/...' --config MODE=prod --memory-mb 64
  wedge deploy worker worker.js --route /w
  wedge deploy examples/chat          # an app: examples/chat/wedge.toml`,
		Args: rangeArgs(0, 2),
	}
	f := c.Flags()
	f.StringArrayVar(&routes, "route", nil, "route `PATH` to serve (repeatable): /exact or /prefix/...")
	f.StringArrayVar(&config, "config", nil, "configuration variable `KEY=VALUE` (repeatable)")
	f.StringArrayVar(&grants, "kv-grant", nil, "grant access to another KV `NAMESPACE` (repeatable)")
	f.StringArrayVar(&allowHosts, "allow-host", nil, "let the function send HTTP requests to `URL` (scheme://host[:port], host may be *.domain; repeatable)")
	f.DurationVar(&timeout, "timeout", 0, fmt.Sprintf("time limit per request (default %v, at most %v)", abi.DefaultTimeout, abi.MaxTimeout))
	f.DurationVar(&outTimeout, "outbound-timeout", 0, fmt.Sprintf("time limit per outbound HTTP request (default %v, within --timeout)", outbound.DefaultTimeout))
	f.Int64Var(&outMaxBytes, "outbound-max-response-bytes", 0, fmt.Sprintf("largest outbound HTTP response body in `BYTES` (default %d)", outbound.DefaultMaxResponseBytes))
	f.IntVar(&outMaxReqs, "outbound-max-requests", 0, fmt.Sprintf("outbound HTTP requests per invocation (default %d, at most %d)", outbound.DefaultMaxRequests, outbound.MaxMaxRequests))
	f.Int64Var(&memory, "memory-mb", 0, fmt.Sprintf("memory limit in MiB (default %d, at most %d)", abi.DefaultMemoryMB, abi.MaxMemoryMB))
	f.StringVar(&ns, "kv-namespace", "", "the function's own KV `NAMESPACE` (default: its name)")
	f.BoolVar(&noSnap, "no-snapshot", false, "do not pre-initialize a reactor at deploy; run _initialize on every request")
	f.BoolVar(&noBuild, "no-build", false, "app deploys: do not run the manifest's build commands")
	f.StringVar(&affinity, "affinity", "", "in a cluster, serve the paths matching `PATTERN` (ending in /*, e.g. /rooms/*) on the node owning their key")
	f.IntVar(&traffic, "traffic", 0, "gradual rollout: the new version serves `PERCENT` (1-99) of requests, the current one the rest (wedge promote, wedge rollback end it)")
	f.StringVar(&trafficKey, "traffic-key", "", "keep each client on one side of a rollout by `header:NAME` or `cookie:NAME`")
	out := outputFlag(c)
	newClient := clientFlags(e, c)
	c.RunE = func(c *cobra.Command, pos []string) error {
		// wedge deploy [DIR|wedge.toml]: an app described by a manifest.
		if len(pos) == 0 {
			return deployApp(e, ".", newClient, noBuild, out)
		}
		if len(pos) == 1 {
			if st, err := os.Stat(pos[0]); err == nil && (st.IsDir() || strings.HasSuffix(pos[0], ".toml")) {
				return deployApp(e, pos[0], newClient, noBuild, out)
			}
			return usageError("%s is not a directory or a .toml file; to deploy a module: wedge deploy NAME FILE.wasm --route PATH", pos[0])
		}
		if outTimeout < 0 || outMaxBytes < 0 || outMaxReqs < 0 {
			return fmt.Errorf("--outbound-timeout, --outbound-max-response-bytes and --outbound-max-requests must not be negative")
		}
		name, file := pos[0], pos[1]
		wasm, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		cl, err := newClient()
		if err != nil {
			return err
		}
		opts := client.DeployOptions{Routes: routes, TimeoutMS: timeout.Milliseconds(), MemoryMB: memory, KVNamespace: ns, KVGrants: grants, NoSnapshot: noSnap, Affinity: affinity, AllowedHosts: allowHosts,
			Traffic: traffic, TrafficKey: trafficKey,
			OutboundTimeoutMS: outTimeout.Milliseconds(), OutboundMaxResponseBytes: outMaxBytes, OutboundMaxRequests: outMaxReqs,
			JavaScript: strings.HasSuffix(file, ".js") || strings.HasSuffix(file, ".mjs")}
		for _, kv := range config {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return usageError("--config %q: want KEY=VALUE", kv)
			}
			if opts.Config == nil {
				opts.Config = map[string]string{}
			}
			opts.Config[k] = v
		}
		// Progress goes to stderr when stdout carries JSON.
		var progressOut io.Writer = e.stdout
		if out.json() {
			progressOut = e.stderr
		}
		start := time.Now()
		fmt.Fprintf(progressOut, "deploying %s from %s (%s)\n", name, file, size(len(wasm)))
		opts.Progress = progressPrinter(progressOut, start, false)
		f, created, err := cl.Deploy(e.ctx, name, wasm, opts)
		if err != nil {
			return err
		}
		if out.json() {
			return writeJSON(e.stdout, f)
		}
		verb := "updated"
		if created {
			verb = "created"
		}
		fmt.Fprintf(e.stdout, "%s %s version %d in %.1fs (sha256 %s, %d bytes, %s)\n", verb, f.Name, f.Version, time.Since(start).Seconds(), f.SHA256[:12], f.Size, kindText(f.Function))
		if f.Snapshot != nil {
			fmt.Fprintf(e.stdout, "  pre-initialized at deploy: _initialize (%dus) no longer runs per request\n", f.Snapshot.InitMicros)
		}
		for _, r := range f.Routes {
			fmt.Fprintf(e.stdout, "  route %s\n", r)
		}
		if len(f.Routes) == 0 {
			fmt.Fprintf(e.stdout, "  no routes: the function is not reachable over HTTP (use --route)\n")
		}
		return nil
	}
	return c
}

func newListCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list", "functions"},
		Short:   "list deployed functions",
		Example: `  wedge ls
  wedge ls -o json | jq -r '.[].name'`,
		Args: exactArgs(0),
	}
	out := outputFlag(c)
	newClient := clientFlags(e, c)
	c.RunE = func(*cobra.Command, []string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		fns, err := cl.List(e.ctx)
		if err != nil {
			return err
		}
		if out.json() {
			if fns == nil {
				fns = []client.Function{}
			}
			return writeJSON(e.stdout, fns)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tVERSION\tKIND\tSIZE\tROUTES\tUPDATED")
		for _, f := range fns {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", f.Name, f.Version, kindText(f.Function), size(f.Size), strings.Join(f.Routes, " "), f.Updated.Local().Format(time.DateTime))
		}
		return tw.Flush()
	}
	return c
}

// kindText names what a function is: "js (script 1.2KiB)", "native
// entry", "WASI command (CGI)".
func kindText(f model.Function) string {
	switch k := f.KindOf(); k {
	case model.KindJS:
		if f.Script != nil {
			return "js (script " + size(f.Script.Bytes) + ")"
		}
		return "js"
	case model.KindNative:
		return "native entry"
	case model.KindCGI:
		return "WASI command (CGI)"
	default:
		return k
	}
}

func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

func newRemoveCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"delete"},
		Short:   "delete a function",
		Example: `  wedge rm hi`,
		Args:    exactArgs(1),
	}
	newClient := clientFlags(e, c)
	c.ValidArgsFunction = completeFunctions(e, newClient)
	c.RunE = func(_ *cobra.Command, pos []string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		if err := cl.Delete(e.ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %s\n", pos[0])
		return nil
	}
	return c
}

func newLogsCmd(e *env) *cobra.Command {
	var follow bool
	var limit int
	c := &cobra.Command{
		Use:   "logs NAME",
		Short: "show a function's logs",
		Long: `Show a function's recent log lines: its stdout, stderr and log calls, and
the node's messages about it, each with the request id. With --follow, keep
printing new lines until interrupted.`,
		Example: `  wedge logs hi
  wedge logs hi --follow
  wedge logs hi -n 10 -o json`,
		Args: exactArgs(1),
	}
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	c.Flags().IntVarP(&limit, "lines", "n", 100, "number of recent `LINES` to show first")
	out := outputFlag(c)
	newClient := clientFlags(e, c)
	c.ValidArgsFunction = completeFunctions(e, newClient)
	c.RunE = func(_ *cobra.Command, pos []string) error {
		cl, err := newClient()
		if err != nil {
			return err
		}
		return cl.Logs(e.ctx, pos[0], limit, follow, func(l client.LogEntry) {
			if out.json() { // one JSON object per line, as the node sends them
				b, _ := jsonLine(l)
				e.stdout.Write(b)
				return
			}
			if l.Missed > 0 {
				fmt.Fprintf(e.stdout, "... %d lines missed (the follower was too slow)\n", l.Missed)
				return
			}
			fmt.Fprintf(e.stdout, "%s %-5s %s [%s] %s\n", l.Time.Local().Format("15:04:05.000"), l.Level, l.Stream, l.RequestID, l.Message)
		})
	}
	return c
}
