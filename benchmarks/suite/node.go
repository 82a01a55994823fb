package suite

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wedge-run/wedge/client"
)

// nodeStartTimeout bounds a node's start-up, loading every function from
// the artifact cache included.
const nodeStartTimeout = 3 * time.Minute

var (
	publicRE  = regexp.MustCompile(`public gateway\s+(http://\S+)`)
	adminRE   = regexp.MustCompile(`admin API\s+(http://\S+)`)
	servingRE = regexp.MustCompile(`serving (\d+) function`)
)

// Node is a wedge node started by the suite as a child process
// (`wedge serve` on 127.0.0.1 with random ports), pinned like every
// server.
type Node struct {
	proc    *process
	DataDir string
	Public  string // public gateway URL
	Admin   string // admin API URL
	Token   string
	// Functions is the number of functions the node said it serves when
	// it became ready.
	Functions int
	// Startup is the time from starting the process to the node printing
	// that it serves its functions (the data directory opened, every
	// function loaded, both listeners up).
	Startup time.Duration
}

// StartNode starts `wedge serve` on dataDir (created if needed) with a
// fresh admin token, or with token when not empty, and waits until it
// serves.
func (e *Env) StartNode(ctx context.Context, dataDir, token string) (*Node, error) {
	return e.StartNodeArgs(ctx, dataDir, token)
}

// StartNodeArgs is StartNode with more `wedge serve` flags, such as
// --gossip, --join and --cluster-preset for a cluster member.
func (e *Env) StartNodeArgs(ctx context.Context, dataDir, token string, extra ...string) (*Node, error) {
	if e.opts.WedgeBinary == "" {
		return nil, fmt.Errorf("%w: no wedge binary to start a node with", ErrOptions)
	}
	if token == "" {
		var b [16]byte
		rand.Read(b[:])
		token = hex.EncodeToString(b[:])
	}
	argv := []string{e.opts.WedgeBinary, "serve", "--http", "127.0.0.1:0", "--admin", "127.0.0.1:0",
		"--data", dataDir, "--log-level", "warn"}
	argv = append(argv, extra...)
	// The token goes through the environment, not the command line.
	p, err := e.spawn(ctx, "wedge node", argv, []string{"WEDGE_ADMIN_TOKEN=" + token}, "")
	if err != nil {
		return nil, err
	}
	n := &Node{proc: p, DataDir: dataDir, Token: token}
	from := 0
	m, _, err := p.waitLine(ctx, publicRE, &from, nodeStartTimeout)
	if err != nil {
		p.stop()
		return nil, err
	}
	n.Public = m[1]
	if m, _, err = p.waitLine(ctx, adminRE, &from, nodeStartTimeout); err != nil {
		p.stop()
		return nil, err
	}
	n.Admin = m[1]
	m, at, err := p.waitLine(ctx, servingRE, &from, nodeStartTimeout)
	if err != nil {
		p.stop()
		return nil, err
	}
	n.Functions, _ = strconv.Atoi(m[1])
	n.Startup = at.Sub(p.started)
	return n, nil
}

// Client returns an admin API client for the node.
func (n *Node) Client() *client.Client { return client.New(n.Admin, n.Token) }

// Metrics reads the node's /metrics (admin API): every sample, keyed by
// its series as written, name{labels} or name alone.
func (n *Node) Metrics(ctx context.Context) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", n.Admin+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+n.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s/metrics: HTTP %d", n.Admin, resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// RSS returns the node's resident set size in bytes.
func (n *Node) RSS() (int64, error) { return n.proc.rssBytes() }

// Alive reports whether the node process is still running.
func (n *Node) Alive() bool { return n.proc.alive() }

// Stop stops the node (SIGTERM, then SIGKILL after a grace period).
func (n *Node) Stop() error { return n.proc.stop() }

// Kill ends the node with SIGKILL, as a crash would.
func (n *Node) Kill() error { return n.proc.kill() }

// waitHTTP polls url until it answers 200 or timeout passes.
func waitHTTP(ctx context.Context, url string, timeout time.Duration, alive func() bool) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if alive != nil && !alive() {
			return fmt.Errorf("%w while waiting for %s", ErrExited, url)
		}
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			last = fmt.Errorf("HTTP %d", resp.StatusCode)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%w: %s: %v", ErrNotReady, url, last)
}
