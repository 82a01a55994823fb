package node_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

var testKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func clusterNode(t *testing.T, name string, join *node.Node, key string, opts ...func(*node.Config)) *node.Node {
	t.Helper()
	return testutil.StartNode(t, "", append([]func(*node.Config){func(c *node.Config) {
		c.NodeName = name
		c.GossipAddr = "127.0.0.1:0"
		c.ClusterPreset = "local"
		c.ClusterKey = key
		if join != nil {
			c.Join = []string{join.Cluster.Addr()}
		}
	}}, opts...)...)
}

func alive(n *node.Node) int {
	c := 0
	for _, m := range n.Cluster.Members() {
		if fmt.Sprint(m.State) == "alive" {
			c++
		}
	}
	return c
}

func TestClusterReplicatesFunctionsAndKV(t *testing.T) {
	n1 := clusterNode(t, "n1", nil, testKey)
	n2 := clusterNode(t, "n2", n1, testKey)
	n3 := clusterNode(t, "n3", n1, testKey)
	nodes := []*node.Node{n1, n2, n3}
	testutil.Eventually(t, 5*time.Second, "3 alive members everywhere", func() bool {
		return alive(n1) == 3 && alive(n2) == 3 && alive(n3) == 3
	})
	// Deploy on one node: every node serves it. How fast is measured by
	// the benchmark suite (`wedge bench --only cluster`: deploy
	// propagation); the bound here only ends a test that would hang.
	start := time.Now()
	deploy(t, n2, "greet", text(t, "hi from the cluster"), "/greet")
	testutil.Eventually(t, 15*time.Second, "the function on every node", func() bool {
		for _, n := range nodes {
			if r := testutil.Get(t, n.PublicURL()+"/greet"); r.Body != "hi from the cluster" {
				return false
			}
		}
		return true
	})
	t.Logf("deploy reached 3 nodes in %v", time.Since(start))
	// Update likewise.
	deploy(t, n3, "greet", text(t, "version two"), "/greet")
	testutil.Eventually(t, 15*time.Second, "the update on every node", func() bool {
		for _, n := range nodes {
			if testutil.Get(t, n.PublicURL()+"/greet").Body != "version two" {
				return false
			}
		}
		return true
	})
	// KV writes on one node are read on all.
	if _, err := testutil.Client(n3).KVPut(ctx, "shared", "k", []byte("v3"), client.KVPutOptions{}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 4000) // more than one gossip packet
	testutil.Client(n1).KVPut(ctx, "shared", "big", []byte(big), client.KVPutOptions{})
	testutil.Eventually(t, 15*time.Second, "kv on every node", func() bool {
		for _, n := range nodes {
			a, errA := n.KV.Get("shared", "k")
			b, errB := n.KV.Get("shared", "big")
			if errA != nil || errB != nil || string(a.Value) != "v3" || string(b.Value) != big {
				return false
			}
		}
		return true
	})
	// Delete on one node: gone everywhere.
	if err := testutil.Client(n1).Delete(ctx, "greet"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "the delete on every node", func() bool {
		for _, n := range nodes {
			if testutil.Get(t, n.PublicURL()+"/greet").Status != 404 {
				return false
			}
		}
		return true
	})
	// A node that joins later catches up functions and data.
	deploy(t, n1, "late", text(t, "caught up"), "/late")
	n4 := clusterNode(t, "n4", n2, testKey)
	testutil.Eventually(t, 5*time.Second, "the late node to catch up", func() bool {
		v, err := n4.KV.Get("shared", "big")
		return testutil.Get(t, n4.PublicURL()+"/late").Body == "caught up" && err == nil && string(v.Value) == big &&
			testutil.Get(t, n4.PublicURL()+"/greet").Status == 404
	})
	// Members through the admin API.
	r := testutil.Do(t, "GET", n4.AdminURL()+"/v1/cluster/members", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	testutil.Contains(t, r.Body, `"n1"`, `"n2"`, `"n3"`, `"n4"`, "public_addr")
	// Gossip volume in /metrics.
	testutil.Eventually(t, 5*time.Second, "n1's metrics to count 4 members", func() bool {
		m := testutil.Do(t, "GET", n1.AdminURL()+"/metrics", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
		return strings.Contains(m.Body, "wedge_cluster_members_alive 4\n") &&
			strings.Contains(m.Body, `wedge_gossip_bytes_total{transport="udp",direction="sent"}`)
	})
	if tr := n1.Cluster.Traffic(); tr.UDPSent == 0 || tr.TCPReceived == 0 || tr.PeerHTTPSent+tr.PeerHTTP == 0 {
		t.Errorf("traffic not counted: %+v", tr)
	}
}

func TestClusterRefusesWrongKey(t *testing.T) {
	n1 := clusterNode(t, "k1", nil, testKey)
	other := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	intruder := clusterNode(t, "intruder", n1, other)
	plain := clusterNode(t, "plain", n1, "")
	member := clusterNode(t, "k2", n1, testKey)
	deploy(t, n1, "secret", text(t, "for members only"), "/secret")
	// Once a member with the key serves it, the function was gossiped;
	// the nodes without the key must not have it.
	testutil.Eventually(t, 15*time.Second, "the function on the member with the key", func() bool {
		return testutil.Get(t, member.PublicURL()+"/secret").Status == 200
	})
	for _, m := range n1.Cluster.Members() {
		if (m.Name == "intruder" || m.Name == "plain") && fmt.Sprint(m.State) == "alive" {
			t.Fatalf("%s joined with the wrong key", m.Name)
		}
	}
	for _, n := range []*node.Node{intruder, plain} {
		if r := testutil.Get(t, n.PublicURL()+"/secret"); r.Status != 404 {
			t.Fatalf("a function leaked to a node without the key: %d", r.Status)
		}
	}
}

func TestClusterKeyValidation(t *testing.T) {
	for _, k := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := node.ParseClusterKey(k); err == nil {
			t.Fatalf("%q accepted", k)
		}
	}
}

// TestClusterSecretsNeedAKey: without a cluster key (plaintext gossip) a
// function's secrets stay on the node that took the deploy; with a key
// they replicate.
func TestClusterSecretsNeedAKey(t *testing.T) {
	for _, key := range []string{"", testKey} {
		a := clusterNode(t, "sa"+fmt.Sprint(len(key)), nil, key)
		b := clusterNode(t, "sb"+fmt.Sprint(len(key)), a, key)
		_, _, err := testutil.Client(a).Deploy(ctx, "withsecret", text(t, "x"), client.DeployOptions{Routes: []string{"/s"}})
		if err != nil {
			t.Fatal(err)
		}
		req := registryRequest("withsecret", text(t, "x"), nil, nil)
		req.Routes = []string{"/s"}
		req.Secrets = map[string]string{"TOKEN": "s3cret"}
		if _, _, err := a.Registry.Deploy(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 5*time.Second, "the function on b", func() bool {
			g, ok := b.Registry.Get("withsecret")
			return ok && g.Record.Version >= 1 && testutil.Get(t, b.PublicURL()+"/s").Status == 200 && (key == "" || len(g.Record.Secrets) == 1)
		})
		g, _ := b.Registry.Get("withsecret")
		if key == "" && len(g.Record.Secrets) != 0 {
			t.Fatal("secrets crossed plaintext gossip")
		}
	}
}
