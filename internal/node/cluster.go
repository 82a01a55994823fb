package node

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
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
	"github.com/wedge-run/wedge/internal/storage"
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
	c, err := cluster.New(cluster.Config{
		NodeName: n.Config.NodeName, BindAddr: cfg.GossipAddr, Keys: keys, Preset: preset,
		Meta: cluster.NodeMeta{PublicAddr: n.Gateway.PublicAddr(), AdminAddr: n.Gateway.AdminAddr(), Version: Version},
		Load: func() cluster.Load {
			st := n.Invoke.Scheduler().Stats()
			return cluster.Load{InFlight: st.InFlight, Limit: st.Limit}
		},
		PeerSecret: secret, Log: cfg.Log, HTTPClient: testHookPeerClient.Load(),
		OnKeysChange: func(keys [][]byte) error {
			return writeKeyring(filepath.Join(cfg.DataDir, keyringFile), keys)
		},
	}, clusterRegistry{n}, n.replica)
	if err != nil {
		n.replica.Close()
		return err
	}
	n.Cluster = c
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
	n.advertiseServing(storage.Function{}, false)
	n.Registry.OnChange(func(rec storage.Function, deleted bool) {
		if rec.Name == "" || rec.Origin != n.Config.NodeName {
			return // a load, or a change that came from another node
		}
		fr, err := toRecord(rec, deleted, n.sealer())
		if err != nil {
			cfg.Log.Error("cluster: function not published", "function", rec.Name, "err", err)
			return
		}
		c.PublishFunction(fr)
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

// spec is the part of a deploy that travels in a function record. The
// secrets never travel in the clear: Req.Secrets is always empty on the
// wire, and SealedSecrets holds them (JSON) sealed with the cluster
// keyring (cluster.Seal), bound to the function's name.
type spec struct {
	Req           registry.DeployRequest `json:"req"`
	Size          int                    `json:"size"`
	Entry         string                 `json:"entry"`
	SealedSecrets []byte                 `json:"sealed_secrets,omitempty"`
	// Snap is the deploy-time snapshot the origin serves: peers fetch
	// it by its sha256 with the module and compile it, instead of
	// pre-initializing the module again (registry.DeployRequest.Snapshot).
	Snap *storage.Snapshot `json:"snap,omitempty"`
}

// secretsAAD is what sealed secrets are bound to: a function's secrets
// open only as that function's.
func secretsAAD(name string) []byte { return []byte("wedge function secrets\x00" + name) }

// sealer seals a function's secrets for the wire (cluster.Seal), or is
// nil when there is no cluster key: the secrets then stay on the node
// that took the deploy.
type sealer func(plain, aad []byte) ([]byte, error)

// toRecord makes the replicated form of a function. Secrets travel only
// sealed, and only when a cluster key is set (seal is not nil): without
// one there is no key to seal them with.
func toRecord(rec storage.Function, deleted bool, seal sealer) (cluster.FunctionRecord, error) {
	fr := cluster.FunctionRecord{Name: rec.Name, SHA256: rec.SHA256, Deleted: deleted, Stamp: rec.Stamp, Node: rec.Origin}
	if deleted {
		return fr, nil
	}
	req := registry.DeployRequest{
		Name: rec.Name, Routes: rec.Routes, Limits: rec.Limits, Config: rec.Config, KVNamespace: rec.KVNamespace,
		KVGrants: rec.KVGrants, Triggers: rec.Triggers, App: rec.App, NoSnapshot: rec.NoSnapshot, Affinity: rec.Affinity,
		AllowedHosts: rec.AllowedHosts,
	}
	sp := spec{Req: req, Size: rec.Size, Entry: rec.Entry, Snap: rec.Snapshot}
	if len(rec.Secrets) > 0 && seal != nil {
		plain, err := json.Marshal(rec.Secrets)
		if err != nil {
			return fr, err
		}
		if sp.SealedSecrets, err = seal(plain, secretsAAD(rec.Name)); err != nil {
			return fr, fmt.Errorf("function %s: sealing its secrets: %w", rec.Name, err)
		}
	}
	b, err := json.Marshal(sp)
	fr.Spec = b
	return fr, err
}

// sealer returns the sealer of this node's function records.
func (n *Node) sealer() sealer {
	if n.Config.ClusterKey == "" || n.Cluster == nil {
		return nil
	}
	return n.Cluster.Seal
}

// openSpec decodes a replicated spec and opens its secrets.
func (n *Node) openSpec(fr cluster.FunctionRecord) (spec, error) {
	var sp spec
	if err := json.Unmarshal(fr.Spec, &sp); err != nil {
		return sp, fmt.Errorf("function %s: bad spec: %w", fr.Name, err)
	}
	if len(sp.Req.Secrets) > 0 {
		// A sender that predates sealing: refuse rather than take, or
		// drop, secrets that crossed the network in the clear.
		return sp, fmt.Errorf("function %s: record from %s carries secrets in the clear; upgrade that node", fr.Name, fr.Node)
	}
	if len(sp.SealedSecrets) > 0 {
		plain, err := n.Cluster.Open(sp.SealedSecrets, secretsAAD(fr.Name))
		if err != nil {
			return sp, fmt.Errorf("function %s: opening its secrets: %w", fr.Name, err)
		}
		if err := json.Unmarshal(plain, &sp.Req.Secrets); err != nil {
			return sp, fmt.Errorf("function %s: bad secrets: %w", fr.Name, err)
		}
	}
	return sp, nil
}

// clusterRegistry adapts the registry to what the cluster replicates.
type clusterRegistry struct{ n *Node }

func (r clusterRegistry) Records() []cluster.FunctionRecord {
	var out []cluster.FunctionRecord
	seal := r.n.sealer()
	for _, rec := range r.n.Registry.List() {
		fr, err := toRecord(rec, false, seal)
		if err != nil {
			r.n.Config.Log.Error("cluster: function record left out", "function", rec.Name, "err", err)
			continue
		}
		out = append(out, fr)
	}
	tombs, _ := r.n.DB.Tombstones()
	for _, t := range tombs {
		out = append(out, cluster.FunctionRecord{Name: t.Name, Deleted: true, Stamp: t.Stamp, Node: t.Origin})
	}
	return out
}

// ApplyRemote merges a replicated change: newer wins; a deploy whose
// module this node lacks fetches it from the origin (or any peer),
// verified by its sha256, and is compiled before it is routed to.
func (r clusterRegistry) ApplyRemote(fr cluster.FunctionRecord) error {
	n := r.n
	if cur, ok := n.Registry.Get(fr.Name); ok {
		if !cluster.Newer(fr.Stamp, fr.Node, cur.Record.Stamp, cur.Record.Origin) {
			return nil
		}
	} else if tombs, _ := n.DB.Tombstones(); len(tombs) > 0 {
		for _, t := range tombs {
			if t.Name == fr.Name && !cluster.Newer(fr.Stamp, fr.Node, t.Stamp, t.Origin) {
				return nil
			}
		}
	}
	if fr.Deleted {
		return n.Registry.DeleteStamped(fr.Name, fr.Stamp, fr.Node)
	}
	sp, err := n.openSpec(fr)
	if err != nil {
		return err
	}
	if _, ok := n.Registry.Get(fr.Name); !ok {
		// New here: until it is installed, its routes go to the origin.
		n.installing.add(fr.Name, fr.Node, sp.Req.Affinity, sp.Req.Routes)
		defer n.installing.remove(fr.Name)
	}
	if h := testHookInstall.Load(); h != nil {
		(*h)(n.Config.NodeName, fr.Name)
	}
	start := time.Now()
	req := sp.Req
	if sp.Snap != nil && !sp.Req.NoSnapshot && cluster.ValidSHA256(sp.Snap.SHA256) {
		// The module and its snapshot, fetched at the same time.
		var snapErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			req.SnapshotWasm, snapErr = n.blob(sp.Snap.SHA256, fr.Node)
		}()
		req.Wasm, err = n.blob(fr.SHA256, fr.Node)
		<-done
		if snapErr == nil {
			req.Snapshot = sp.Snap
		} else {
			req.SnapshotWasm = nil // pre-initialize here instead
			n.Config.Log.Debug("snapshot not fetched; making one", "function", fr.Name, "err", snapErr)
		}
	} else {
		req.Wasm, err = n.blob(fr.SHA256, fr.Node)
	}
	if err != nil {
		return err
	}
	fetched := time.Since(start)
	req.Stamp, req.Origin = fr.Stamp, fr.Node
	// One compilation at a time: wasmtime already spreads one module's
	// functions over every core, so installing several at once only
	// makes all of them finish last; one after the other, the first is
	// served after a fraction of the time.
	installCompile <- struct{}{}
	_, _, err = n.Registry.Deploy(req)
	<-installCompile
	if errors.Is(err, registry.ErrSuperseded) {
		return nil // a newer change landed while the module was fetched and compiled
	}
	if err != nil {
		return err
	}
	n.Config.Log.Info("installed function from peer", "function", fr.Name, "from", fr.Node,
		"fetch", fetched.Round(time.Millisecond), "total", time.Since(start).Round(time.Millisecond), "shipped_snapshot", req.Snapshot != nil)
	return nil
}

// installCompile serializes the compilation of functions installed from
// peers, process-wide (one engine, one thread pool).
var installCompile = make(chan struct{}, 1)

// blob returns the blob sha from the store, or fetches it from a peer,
// asking origin first.
func (n *Node) blob(sha, origin string) ([]byte, error) {
	if n.DB.HasBlob(sha) {
		return n.DB.Blob(sha)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return n.Cluster.FetchBlob(ctx, sha, []string{origin})
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
