package devloop

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
)

// target is the node the loop deploys to.
type target struct {
	client *client.Client
	public string // the public gateway's URL; "" when unknown
	close  func() // stops the node if the loop started it
}

// endpointsFile, in the own node's data directory, tells a second
// `wedge dev` of the same project where the running node listens.
const endpointsFile = "dev.json"

type endpoints struct {
	Admin  string `json:"admin"`
	Public string `json:"public"`
	PID    int    `json:"pid"`
}

// connect returns the node to deploy to: the one opts names, else the
// dev node another `wedge dev` of this project runs, else a new node of
// the loop's own. It prints where the node is and whose token it uses.
func connect(ctx context.Context, opts Options, out *printer) (*target, error) {
	if opts.Admin != "" {
		cl := client.New(opts.Admin, opts.Token)
		if _, err := cl.List(ctx); err != nil {
			if client.IsStatus(err, 401) || client.IsStatus(err, 403) {
				return nil, fmt.Errorf("the token from %s was refused by %s: pass --token or set WEDGE_ADMIN_TOKEN", opts.TokenSource, cl.Base)
			}
			return nil, fmt.Errorf("node at %s: %w", cl.Base, err)
		}
		out.printf("node  %s (given; left running on exit)\n", cl.Base)
		out.printf("  admin token  from %s\n", opts.TokenSource)
		if opts.Public != "" {
			out.printf("  public       %s\n", opts.Public)
		}
		return &target{client: cl, public: opts.Public, close: func() {}}, nil
	}
	if t := running(ctx, opts.DataDir); t != nil {
		out.printf("node  %s (already running for this project: another wedge dev, pid %d; left running on exit)\n", t.client.Base, t.pid)
		out.printf("  public       %s\n", t.public)
		out.printf("  admin token  from %s\n", filepath.Join(opts.DataDir, "admin-token"))
		return &t.target, nil
	}
	return start(ctx, opts, out)
}

// start starts a node with its own data directory and free ports.
func start(ctx context.Context, opts Options, out *printer) (*target, error) {
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, err
	}
	// Keep the node's files out of version control without touching the
	// project's .gitignore.
	_ = os.WriteFile(filepath.Join(opts.DataDir, ".gitignore"), []byte("*\n"), 0o644)
	cfg := node.Config{HTTPAddr: opts.HTTPAddr, AdminAddr: opts.AdminAddr, DataDir: opts.DataDir,
		Log: slog.New(slog.NewTextHandler(opts.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if cfg.AdminAddr == "" {
		cfg.AdminAddr = "127.0.0.1:0"
	}
	if opts.NodeConfig != nil {
		opts.NodeConfig(&cfg)
	}
	began := time.Now()
	n, err := node.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("starting a dev node in %s: %w", opts.DataDir, err)
	}
	ep := endpoints{Admin: n.AdminURL(), Public: n.PublicURL(), PID: os.Getpid()}
	epPath := filepath.Join(opts.DataDir, endpointsFile)
	if b, err := json.Marshal(ep); err == nil {
		_ = os.WriteFile(epPath, b, 0o644)
	}
	out.printf("node  started in %v (stopped on exit)\n", round(time.Since(began)))
	out.printf("  public       %s\n", n.PublicURL())
	out.printf("  admin        %s\n", n.AdminURL())
	out.printf("  data         %s\n", opts.DataDir)
	tokenFrom := n.TokenFile
	if tokenFrom == "" {
		tokenFrom = "the node configuration"
	}
	out.printf("  admin token  in %s\n", tokenFrom)
	if n.TokenFile != "" {
		out.printf("  other shells: export WEDGE_ADMIN=%s WEDGE_ADMIN_TOKEN=$(cat %s)\n", n.AdminURL(), n.TokenFile)
	}
	return &target{
		client: client.New(n.AdminURL(), n.Config.AdminToken),
		public: n.PublicURL(),
		close: func() {
			_ = os.Remove(epPath)
			n.Close()
		},
	}, nil
}

type runningNode struct {
	target
	pid int
}

// running returns the node another `wedge dev` started in dataDir, if it
// answers with the token stored there.
func running(ctx context.Context, dataDir string) *runningNode {
	b, err := os.ReadFile(filepath.Join(dataDir, endpointsFile))
	if err != nil {
		return nil
	}
	var ep endpoints
	if json.Unmarshal(b, &ep) != nil || ep.Admin == "" {
		return nil
	}
	tok, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	if err != nil {
		return nil
	}
	cl := client.New(ep.Admin, strings.TrimSpace(string(tok)))
	cl.HTTP.Timeout = 2 * time.Second
	if _, err := cl.List(ctx); err != nil {
		return nil // a stale file: its node is gone
	}
	cl.HTTP.Timeout = 5 * time.Minute
	return &runningNode{target: target{client: cl, public: ep.Public, close: func() {}}, pid: ep.PID}
}
