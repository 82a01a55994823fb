package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/wedge-run/wedge/internal/certs"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/storage"
)

// shutdownTimeout bounds a graceful stop.
const shutdownTimeout = 15 * time.Second

func newServeCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "run a node (public gateway + admin API)",
		Long: `Run a wedge node: the public gateway serving the deployed functions and the
admin API that deploys them. With no flags it serves a working single node on
127.0.0.1:8080 (admin 127.0.0.1:8081) with its data in ./wedge-data; without
--admin-token it generates one and stores it in DATA/admin-token.

With --gossip (and --join) nodes form a cluster: functions and key-value data
reach every node.`,
		Example: `  wedge serve
  wedge serve --demo examples                  # with the example functions
  wedge serve --data /tmp/n2 --http 127.0.0.1:8090 --admin 127.0.0.1:8091 \
      --gossip 127.0.0.1:7947 --join 127.0.0.1:7946 --cluster-key "$KEY"`,
		Args: exactArgs(0),
	}
	var cfg node.Config
	fs := c.Flags()
	fs.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8080", "public gateway listen `ADDR`")
	fs.StringVar(&cfg.AdminAddr, "admin", "127.0.0.1:8081", "admin API listen `ADDR`")
	fs.StringVar(&cfg.DataDir, "data", "./wedge-data", "data `DIR` (database, compiled artifacts, admin token)")
	fs.IntVar(&cfg.KeepVersions, "keep-versions", storage.DefaultKeepVersions, "`N` versions of each function kept for wedge rollback")
	fs.StringVar(&cfg.GossipAddr, "gossip", "", "cluster gossip bind `ADDR` (empty: single node)")
	join := fs.String("join", "", "comma-separated gossip `ADDR`s of nodes to join")
	fs.StringVar(&cfg.NodeName, "node-name", "", "node `NAME` (default: remembered in the data dir, else host-random)")
	fs.StringVar(&cfg.AdminToken, "admin-token", os.Getenv("WEDGE_ADMIN_TOKEN"), "admin API bearer `TOKEN` (env WEDGE_ADMIN_TOKEN; default: generated and stored in the data dir)")
	fs.StringVar(&cfg.ClusterKey, "cluster-key", os.Getenv("WEDGE_CLUSTER_KEY"), "base64 gossip encryption `KEY` of 16, 24 or 32 bytes (env WEDGE_CLUSTER_KEY)")
	fs.StringVar(&cfg.ClusterPreset, "cluster-preset", "lan", "gossip timing: lan, wan, or local (fast failure detection for nodes on one machine)")
	fs.IntVar(&cfg.MaxConcurrency, "max-concurrency", 0, "invocations allowed to run at once (default: 8 per core, at most one per 32 MiB of memory); the ceiling with --adaptive")
	fs.BoolVar(&cfg.Adaptive, "adaptive", false, "adjust the concurrency limit to observed latency (between --min-concurrency and --max-concurrency)")
	fs.IntVar(&cfg.MinConcurrency, "min-concurrency", 0, "the adaptive limit's floor (default 1)")
	fs.DurationVar(&cfg.QueueWait, "queue-wait", 0, "how long a request may wait for a free slot before a 503; one expected to wait longer gets it at once (default 50ms)")
	fs.Var(memoryFlag{&cfg.MemoryBudget}, "memory-budget", "memory the invocations in flight may reserve, each its function's memory limit; past it requests wait briefly, then get 503: a `SIZE` in MiB or with a unit (4GiB), or off (default: half the machine's memory)")
	fs.IntVar(&cfg.MaxBodyBytes, "max-body", 0, "public request body limit in `BYTES` (default 8 MiB)")
	fs.StringVar(&cfg.OutboundCA, "outbound-ca", "", "PEM `FILE` of CA certificates trusted for functions' outbound HTTPS, besides the system roots")
	fs.IntVar(&cfg.OutboundMaxConcurrent, "outbound-max-concurrent", 0, "outbound HTTP requests from functions in flight at once on the node (default 256)")
	var tlsCerts, tlsKeys []string
	fs.StringVar(&cfg.TLS.HTTPSAddr, "https", "", "public gateway HTTPS listen `ADDR` (e.g. 127.0.0.1:8443; needs --tls-cert/--tls-key or --acme-domain)")
	fs.StringArrayVar(&tlsCerts, "tls-cert", nil, "PEM certificate chain `FILE` for HTTPS (repeatable, paired in order with --tls-key; chosen by SNI, reloaded on change and on SIGHUP)")
	fs.StringArrayVar(&tlsKeys, "tls-key", nil, "PEM private key `FILE` of the --tls-cert at the same position")
	fs.StringArrayVar(&cfg.TLS.ACMEDomains, "acme-domain", nil, "obtain a certificate for `NAME` through ACME, HTTP-01 on the public port (repeatable)")
	fs.StringVar(&cfg.TLS.ACMEEmail, "acme-email", "", "contact `EMAIL` given to the ACME CA")
	fs.StringVar(&cfg.TLS.ACMEDirectory, "acme-directory", "", "ACME directory `URL` (default Let's Encrypt's production CA)")
	fs.StringArrayVar(&cfg.TLS.RedirectHTTPS, "redirect-https", nil, "redirect plain HTTP requests for `HOST` to HTTPS (repeatable; *.example.com or * for every host)")
	fs.BoolVar(&cfg.TLS.HSTS, "hsts", false, "send Strict-Transport-Security (one year) on HTTPS responses")
	fs.Float64Var(&cfg.Trace.Sample, "trace-sample", 0, "OpenTelemetry tracing: the `FRACTION` (0-1] of new traces recorded, parent-based; 0 follows OTEL_TRACES_SAMPLER, and traces only when it or OTEL_EXPORTER_OTLP_ENDPOINT is set; <0 off. Spans go to OTEL_EXPORTER_OTLP_ENDPOINT over OTLP/HTTP, else the last 256 traces stay in memory (GET /v1/traces)")
	demo := fs.String("demo", "", "deploy the bundled example functions on start; `DIR` holds built examples (\"embedded\" for the built-in ones only)")
	logLevel := fs.String("log-level", "info", "node log `LEVEL`: debug, info, warn, error")
	_ = c.RegisterFlagCompletionFunc("cluster-preset", cobra.FixedCompletions([]string{"lan", "wan", "local"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.MarkFlagDirname("data")
	c.RunE = func(*cobra.Command, []string) error {
		if len(tlsCerts) != len(tlsKeys) {
			return usageError("--tls-cert and --tls-key come in pairs: %d certificate(s), %d key(s)", len(tlsCerts), len(tlsKeys))
		}
		for i := range tlsCerts {
			cfg.TLS.Certs = append(cfg.TLS.Certs, certs.Pair{Cert: tlsCerts[i], Key: tlsKeys[i]})
		}
		return serve(e, cfg, *join, *demo, *logLevel)
	}
	return c
}

// serve runs a node until interrupted.
func serve(e *env, cfg node.Config, join, demo, logLevel string) error {
	if join != "" {
		cfg.Join = strings.Split(join, ",")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
		return usageError("--log-level: %v", err)
	}
	cfg.Log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
	n, err := node.Start(e.ctx, cfg) // bound to SIGINT/SIGTERM (cli.go): Ctrl-C during start-up stops it
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			n.Close()
		}
	}()
	fmt.Fprintf(e.stdout, "wedge %s node %q\n", node.Version, n.Config.NodeName)
	fmt.Fprintf(e.stdout, "  public gateway  %s\n", n.PublicURL())
	if u := n.HTTPSURL(); u != "" {
		fmt.Fprintf(e.stdout, "  public HTTPS    %s\n", u)
	}
	fmt.Fprintf(e.stdout, "  admin API       %s\n", n.AdminURL())
	fmt.Fprintf(e.stdout, "  data            %s\n", n.Config.DataDir)
	if n.TokenFile != "" {
		fmt.Fprintf(e.stdout, "  admin token     stored in %s\n", n.TokenFile)
	}
	if n.Cluster != nil {
		enc := "unencrypted: pass --cluster-key to encrypt"
		if cfg.ClusterKey != "" {
			enc = "encrypted"
		}
		fmt.Fprintf(e.stdout, "  gossip          %s (%s, %d member(s))\n", n.Cluster.Addr(), enc, len(n.Cluster.Members()))
	}
	if demo != "" {
		if err := deployDemo(e, n, demo); err != nil {
			return err
		}
	}
	stopped = true // from here on, the shutdown below closes the node
	fmt.Fprintf(e.stdout, "serving %d function(s); press Ctrl-C to stop\n", n.Registry.Len())
	reloadOnHangup(e, n)
	<-e.ctx.Done()
	// A second Ctrl-C or SIGTERM ends the process at once.
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	fmt.Fprintf(e.stdout, "stopping (Ctrl-C again to exit at once)\n")
	done := make(chan struct{})
	go func() { n.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownTimeout):
		// Something does not stop in time (a module from a peer still
		// compiling, a stuck request): exit anyway. Every write the node
		// acknowledged is already durable.
		return fmt.Errorf("shutdown did not finish within %v; exiting anyway", shutdownTimeout)
	}
	return nil
}

// reloadOnHangup rereads the certificate files on SIGHUP, until the
// command's context ends.
func reloadOnHangup(e *env, n *node.Node) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-e.ctx.Done():
				return
			case <-hup:
				if err := n.ReloadTLS(); err != nil {
					fmt.Fprintf(e.stderr, "SIGHUP: certificates not reloaded, the previous ones stay: %v\n", err)
				} else {
					fmt.Fprintf(e.stderr, "SIGHUP: certificates reloaded\n")
				}
			}
		}
	}()
}
