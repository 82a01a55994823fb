package wedge

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/wedge-run/wedge/internal/node"
)

// Version is the wedge release.
const Version = node.Version

// Config configures an embedded node. The zero value serves on
// 127.0.0.1:8080 and 127.0.0.1:8081 from ./wedge-data.
type Config struct {
	// PublicListener and AdminListener, if set, are where the node serves
	// the public gateway and the admin API. The node owns them from
	// Start: it closes them on Close, and when Start fails.
	PublicListener, AdminListener net.Listener
	// PublicAddr and AdminAddr are listened on when the matching
	// listener is nil. Defaults 127.0.0.1:8080 and 127.0.0.1:8081.
	PublicAddr, AdminAddr string

	// DataDir holds the node's database, compiled code and objects.
	// Default ./wedge-data.
	DataDir string
	// AdminToken guards the admin API; when empty, one is generated and
	// stored in DataDir (AdminToken() returns it).
	AdminToken string
	// NodeName names the node in logs and in a cluster; stored in
	// DataDir, default host-XXXX.
	NodeName string

	// GossipAddr, if set, makes the node a cluster member gossiping on
	// this address; Join lists peers' gossip addresses, ClusterKey the
	// base64 key that encrypts gossip.
	GossipAddr string
	Join       []string
	ClusterKey string

	// MaxConcurrency bounds invocations running at once (default from
	// cores and memory); QueueWait how long a request may wait for a
	// slot (default 50ms); MemoryBudget the bytes the invocations in
	// flight may reserve (0: half the machine's memory, <0: none).
	MaxConcurrency int
	QueueWait      time.Duration
	MemoryBudget   int64
	// MaxBodyBytes bounds public request bodies (default 8 MiB).
	MaxBodyBytes int
	// LogLines is how many log lines the node keeps per function.
	LogLines int

	// Log receives the node's own log (default slog.Default()).
	Log *slog.Logger
}

// nodeConfig maps the public config onto the node's.
func (c Config) nodeConfig() node.Config {
	return node.Config{
		PublicListener: c.PublicListener, AdminListener: c.AdminListener,
		HTTPAddr: c.PublicAddr, AdminAddr: c.AdminAddr,
		DataDir: c.DataDir, AdminToken: c.AdminToken, NodeName: c.NodeName,
		GossipAddr: c.GossipAddr, Join: c.Join, ClusterKey: c.ClusterKey,
		MaxConcurrency: c.MaxConcurrency, QueueWait: c.QueueWait, MemoryBudget: c.MemoryBudget,
		MaxBodyBytes: c.MaxBodyBytes, LogLines: c.LogLines, Log: c.Log,
	}
}

// Node is a running node.
type Node struct {
	n             *node.Node
	public, admin http.Handler
}

// Start starts a node: it opens the data directory, loads the functions
// deployed there and serves the public gateway and the admin API. ctx
// bounds the start-up only; the node runs until Close. On error nothing
// stays open, the listeners given in cfg included.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	n, err := node.Start(ctx, cfg.nodeConfig())
	if err != nil {
		return nil, err
	}
	return &Node{n: n, public: n.Gateway.PublicHTTPHandler(), admin: n.Gateway.AdminHTTPHandler()}, nil
}

// PublicAddr and AdminAddr are the addresses the node serves on
// ("127.0.0.1:41234").
func (n *Node) PublicAddr() string { return n.n.Gateway.PublicAddr() }
func (n *Node) AdminAddr() string  { return n.n.Gateway.AdminAddr() }

// AdminToken is the admin API's bearer token (given, or generated at the
// node's first start).
func (n *Node) AdminToken() string { return n.n.Config.AdminToken }

// Name is the node's name.
func (n *Node) Name() string { return n.n.Config.NodeName }

// PublicHandler serves the public gateway as a net/http handler (see
// the package documentation for its cost).
func (n *Node) PublicHandler() http.Handler { return n.public }

// AdminHandler serves the admin API as a net/http handler; requests need
// the admin token, as on the admin listener.
func (n *Node) AdminHandler() http.Handler { return n.admin }

// Close stops the node: it stops accepting, lets requests in flight
// finish, stops event delivery, leaves the cluster and closes the data
// directory. It returns the errors of the parts that failed to close,
// joined; nil when everything closed cleanly.
func (n *Node) Close() error { return n.n.Close() }
