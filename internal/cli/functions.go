package cli

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
)

func cmdDeploy(e *env, args []string) error {
	fs := newFlags("deploy", e)
	var routes, config, grants multi
	fs.Var(&routes, "route", "route `PATH` to serve (repeatable): /exact or /prefix/...")
	fs.Var(&config, "config", "configuration variable `KEY=VALUE` (repeatable)")
	fs.Var(&grants, "kv-grant", "grant access to another KV `namespace` (repeatable)")
	var allowHosts multi
	fs.Var(&allowHosts, "allow-host", "let the function send HTTP requests to `URL` (scheme://host[:port], host may be *.domain; repeatable)")
	timeout := fs.Duration("timeout", 0, fmt.Sprintf("time limit per request (default %v, at most %v)", abi.DefaultTimeout, abi.MaxTimeout))
	outTimeout := fs.Duration("outbound-timeout", 0, fmt.Sprintf("time limit per outbound HTTP request (default %v, within --timeout)", outbound.DefaultTimeout))
	outMaxBytes := fs.Int64("outbound-max-response-bytes", 0, fmt.Sprintf("largest outbound HTTP response body in `bytes` (default %d)", outbound.DefaultMaxResponseBytes))
	outMaxReqs := fs.Int("outbound-max-requests", 0, fmt.Sprintf("outbound HTTP requests per invocation (default %d, at most %d)", outbound.DefaultMaxRequests, outbound.MaxMaxRequests))
	memory := fs.Int64("memory-mb", 0, fmt.Sprintf("memory limit in MiB (default %d, at most %d)", abi.DefaultMemoryMB, abi.MaxMemoryMB))
	ns := fs.String("kv-namespace", "", "the function's own KV namespace (default: its name)")
	noSnap := fs.Bool("no-snapshot", false, "do not pre-initialize a reactor at deploy; run _initialize on every request")
	noBuild := fs.Bool("no-build", false, "app deploys: do not run the manifest's build commands")
	affinity := fs.String("affinity", "", "in a cluster, serve the paths matching `PATTERN` (ending in /*, e.g. /rooms/*) on the node owning their key")
	traffic := fs.Int("traffic", 0, "gradual rollout: the new version serves `PERCENT` (1-99) of requests, the current one the rest")
	trafficKey := fs.String("traffic-key", "", "keep each client on one side of a rollout by `header:NAME` or `cookie:NAME`")
	newClient := clientFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	// wedge deploy [DIR|wedge.toml]: an app described by a manifest.
	if len(pos) == 0 {
		return deployApp(e, ".", newClient, *noBuild)
	}
	if len(pos) == 1 {
		if st, err := os.Stat(pos[0]); err == nil && (st.IsDir() || strings.HasSuffix(pos[0], ".toml")) {
			return deployApp(e, pos[0], newClient, *noBuild)
		}
	}
	if len(pos) != 2 {
		return errUsage
	}
	if *outTimeout < 0 || *outMaxBytes < 0 || *outMaxReqs < 0 {
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
	opts := client.DeployOptions{Routes: routes, TimeoutMS: timeout.Milliseconds(), MemoryMB: *memory, KVNamespace: *ns, KVGrants: grants, NoSnapshot: *noSnap, Affinity: *affinity, AllowedHosts: allowHosts,
		Traffic: *traffic, TrafficKey: *trafficKey,
		OutboundTimeoutMS: outTimeout.Milliseconds(), OutboundMaxResponseBytes: *outMaxBytes, OutboundMaxRequests: *outMaxReqs,
		JavaScript: strings.HasSuffix(file, ".js") || strings.HasSuffix(file, ".mjs")}
	for _, kv := range config {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--config %q: want KEY=VALUE", kv)
		}
		if opts.Config == nil {
			opts.Config = map[string]string{}
		}
		opts.Config[k] = v
	}
	f, created, err := cl.Deploy(e.ctx, name, wasm, opts)
	if err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(e.stdout, "%s %s version %d (sha256 %s, %d bytes, %s entry)\n", verb, f.Name, f.Version, f.SHA256[:12], f.Size, f.Entry)
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

func cmdList(e *env, args []string) error {
	fs := newFlags("ls", e)
	newClient := clientFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cl, err := newClient()
	if err != nil {
		return err
	}
	fns, err := cl.List(e.ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tENTRY\tSIZE\tROUTES\tUPDATED")
	for _, f := range fns {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", f.Name, f.Version, f.Entry, size(f.Size), strings.Join(f.Routes, " "), f.Updated.Local().Format(time.DateTime))
	}
	return tw.Flush()
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

func cmdRemove(e *env, args []string) error {
	fs := newFlags("rm", e)
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
	if err := cl.Delete(e.ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deleted %s\n", pos[0])
	return nil
}

func cmdLogs(e *env, args []string) error {
	fs := newFlags("logs", e)
	follow := fs.Bool("follow", false, "keep printing new lines")
	fs.BoolVar(follow, "f", false, "shorthand for --follow")
	limit := fs.Int("n", 100, "number of recent lines to show first")
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
	return cl.Logs(e.ctx, pos[0], *limit, *follow, func(l client.LogEntry) {
		if l.Missed > 0 {
			fmt.Fprintf(e.stdout, "... %d lines missed (the follower was too slow)\n", l.Missed)
			return
		}
		fmt.Fprintf(e.stdout, "%s %-5s %s [%s] %s\n", l.Time.Local().Format("15:04:05.000"), l.Level, l.Stream, l.RequestID, l.Message)
	})
}

func cmdVersion(e *env, args []string) error {
	fmt.Fprintf(e.stdout, "wedge %s\n", node.Version)
	return nil
}
