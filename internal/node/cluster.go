package node

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wedge-run/wedge/internal/cluster"
	"github.com/wedge-run/wedge/internal/gateway"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/model"
)

// ParseClusterKey decodes a base64 gossip key of 16, 24 or 32 bytes.
func ParseClusterKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("cluster key: not base64: %w", err)
	}
	if n := len(b); n != 16 && n != 24 && n != 32 {
		return nil, fmt.Errorf("cluster key: %d bytes; it must be 16, 24 or 32 (try: head -c 32 /dev/urandom | base64)", n)
	}
	return b, nil
}

// startCluster joins the gossip cluster and wires replication: function
// records (module bytes are fetched from peers by sha256), key-value
// changes, schedule ownership and request forwarding.
func (n *Node) startCluster() error {
	cfg := n.Config
	var keys [][]byte
	secret := []byte("wedge-peer:" + cfg.AdminToken)
	if cfg.ClusterKey == "" {
		cfg.Log.Warn("cluster without --cluster-key: gossip is plaintext, function secrets are not replicated, " +
			"and every node must share the same --admin-token for peer requests to authenticate")
	}
	if cfg.ClusterKey != "" {
		k, err := ParseClusterKey(cfg.ClusterKey)
		if err != nil {
			return err
		}
		// With keys, the peer secret is derived from the keyring.
		if keys, err = startKeys(cfg.DataDir, k, cfg.Log); err != nil {
			return err
		}
	}
	preset := cfg.ClusterPreset
	if preset == "" {
		preset = cluster.PresetLAN
	}
	n.replica = cluster.NewStoreReplica(n.KV)
	n.replication = n.Registry.Replication(n.replicationConfig())
	c, err := cluster.New(cluster.Config{
		NodeName: n.Config.NodeName, BindAddr: cfg.GossipAddr, Keys: keys, Preset: preset,
		Meta: cluster.NodeMeta{PublicAddr: n.Gateway.PublicAddr(), AdminAddr: n.Gateway.AdminAddr(), Version: Version},
		Load: func() cluster.Load {
			st := n.Invoke.Scheduler().Stats()
			return cluster.Load{InFlight: st.InFlight, Limit: st.Limit}
		},
		PeerSecret: secret, Log: cfg.Log, HTTPClient: testHookPeerClient.Load(),
		OnKeysChange: func(keys [][]byte) error {
			n.replication.Invalidate() // secrets are sealed with the newest key
			return writeKeyring(filepath.Join(cfg.DataDir, keyringFile), keys)
		},
	}, n.replication, n.replica)
	if err != nil {
		n.replica.Close()
		return err
	}
	n.Cluster = c
	n.replication.Invalidate() // the records built before could not seal secrets
	n.closers = append(n.closers, func() error {
		c.HandBack(10 * time.Second)
		c.Leave(2 * time.Second) // peers may be gone already: not a failure to close
		err := c.Shutdown()
		n.replica.Close()
		return err
	})
	// Publish this node's own changes.
	sub := n.KV.Subscribe("", "", 8192)
	c.FollowKV(sub.C())
	n.closers = append(n.closers, noErr(sub.Close))
	if !testHookNoFence.Load() {
		c.SetHandover(cluster.Handover{Namespaces: n.functionNamespaces, Drain: n.drainPinned})
	}
	n.Registry.OnChange(n.advertiseServing)
	n.advertiseServing(model.Function{}, false)
	n.Registry.OnChange(func(rec model.Function, deleted bool) {
		if rec.Name == "" || rec.Origin != n.Config.NodeName {
			return // a load, or a change that came from another node
		}
		fr, err := n.replication.Record(rec, deleted)
		if err != nil {
			cfg.Log.Error("cluster: function not published", "function", rec.Name, "err", err)
			return
		}
		c.PublishFunction(fr)
	})
	n.Registry.OnAppChange(func(a model.App, deleted bool) {
		if a.Name != "" && a.Origin == n.Config.NodeName {
			c.PublishFunction(registry.AppRecord(a, deleted))
		}
	})
	n.Events.SetOwner(func(key string) bool { return c.Owner(key) == n.Config.NodeName })
	n.Gateway.SetForwarder(n.forwarder())
	n.Gateway.SetMetrics(func(w io.Writer) {
		n.writeClusterMetrics(w)
		n.Outbound.WriteMetrics(w)
	})
	n.Gateway.SetInstalling(n.installingPeer)
	n.Gateway.SetOwner(n.keyOwner)
	n.Gateway.SetMembers(func() []gateway.MemberView {
		var out []gateway.MemberView
		for _, m := range c.Members() {
			v := gateway.MemberView{Name: m.Name, Addr: m.Addr, State: fmt.Sprint(m.State), PublicAddr: m.Meta.PublicAddr,
				AdminAddr: m.Meta.AdminAddr, Version: m.Meta.Version, InFlight: m.Load.InFlight, Limit: m.Load.Limit,
				Load: m.Load.Utilization(), Self: m.Self}
			if !m.Since.IsZero() {
				v.Since = m.Since.UTC().Format(time.RFC3339)
			}
			out = append(out, v)
		}
		return out
	})
	if len(cfg.Join) > 0 {
		if _, err := c.Join(cfg.Join); err != nil {
			cfg.Log.Warn("joining the cluster", "peers", cfg.Join, "err", err)
		}
	}
	return nil
}

// replicationConfig wires the registry's replication to the cluster
// (n.Cluster, set once the cluster is created).
func (n *Node) replicationConfig() registry.ReplicationConfig {
	rc := registry.ReplicationConfig{
		Fetch: func(ctx context.Context, sha, origin string) ([]byte, error) {
			return n.Cluster.FetchBlob(ctx, sha, []string{origin})
		},
		Installing: func(name, origin, affinity string, routes []string) func() {
			n.installing.add(name, origin, affinity, routes)
			return func() { n.installing.remove(name) }
		},
		BeforeInstall: func(name string) {
			if h := testHookInstall.Load(); h != nil {
				(*h)(n.Config.NodeName, name)
			}
		},
		Log: n.Config.Log,
	}
	if n.Config.ClusterKey != "" {
		// Without a cluster key there is no key to seal secrets with:
		// they stay on the node that took the deploy.
		rc.Seal = func(plain, aad []byte) ([]byte, error) {
			if n.Cluster == nil {
				return nil, nil // not joined yet: Invalidate rebuilds with secrets
			}
			return n.Cluster.Seal(plain, aad)
		}
		rc.Open = func(sealed, aad []byte) ([]byte, error) { return n.Cluster.Open(sealed, aad) }
	}
	return rc
}

// testHookPeerClient, when set by a test, is the HTTP client of the
// node-to-node requests of the nodes started after.
var testHookPeerClient atomic.Pointer[http.Client]

// testHookNoFence, when set by a test, starts nodes without the
// hand-over fence (cluster.Handover): they own keys from their settle
// instant without draining or catching up with the previous owners.
var testHookNoFence atomic.Bool

// testHookInstall, when set by a test, runs before a function from a
// peer is fetched and compiled.
var testHookInstall atomic.Pointer[func(node, name string)]

// forwarder sends a request this node cannot serve now (saturated) to
// the least loaded peer.
func (n *Node) forwarder() gateway.Forwarder {
	return func() (string, bool) {
		m, ok := n.Cluster.PickPeer(n.Config.NodeName)
		if !ok || m.Meta.PublicAddr == "" {
			return "", false
		}
		return m.Meta.PublicAddr, true
	}
}
