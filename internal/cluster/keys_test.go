package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func newKey(t testing.TB) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func withKeys(keys ...[]byte) func(*Config) {
	return func(c *Config) { c.Keys = keys }
}

// cannotJoin checks that n fails to join the cluster of nodes and never
// shows up in their member lists.
func cannotJoin(t *testing.T, n *testNode, nodes []*testNode) {
	t.Helper()
	if got, err := n.c.Join([]string{nodes[0].c.Addr()}); err == nil || !errors.Is(err, ErrJoin) {
		t.Fatalf("%s joined (%d, %v); want ErrJoin", n.name, got, err)
	}
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		for _, m := range nodes {
			if _, ok := m.c.Member(n.name); ok {
				t.Fatalf("%s appears in %s's members", n.name, m.name)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n.c.NumAlive() != 1 {
		t.Fatalf("%s sees %d members", n.name, n.c.NumAlive())
	}
}

func TestEncryptionKeepsOutWrongAndMissingKeys(t *testing.T) {
	key := newKey(t)
	nodes := startCluster(t, 2, withKeys(key))
	cannotJoin(t, startNode(t, "wrong-key", withKeys(newKey(t))), nodes)
	cannotJoin(t, startNode(t, "no-key"), nodes)

	// and an encrypted node cannot join a plaintext cluster
	plain := startCluster(t, 1, func(c *Config) {})
	cannotJoin(t, startNode(t, "encrypted", withKeys(key)), plain)

	// the right key works, and the encrypted cluster replicates
	good := startNode(t, "good", withKeys(key))
	if _, err := good.c.Join([]string{nodes[1].c.Addr()}); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, append(nodes, good), 3)
	ch := good.kv.put("app", "k", []byte("secret value"))
	waitKV(t, nodes, kvConvergence, ch)
}

func TestBadKeysRejected(t *testing.T) {
	_, err := New(Config{NodeName: "x", BindAddr: "127.0.0.1:0", PeerSecret: testSecret, Keys: [][]byte{[]byte("short")}}, nil, nil)
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New with a 5-byte key: %v", err)
	}
	n := startNode(t, "plain")
	if err := n.c.InstallKey(newKey(t)); !errors.Is(err, ErrNotEncrypted) {
		t.Fatalf("InstallKey without encryption: %v", err)
	}
	e := startNode(t, "enc", withKeys(newKey(t)))
	if err := e.c.InstallKey([]byte("0123456789")); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("InstallKey of a 10-byte key: %v", err)
	}
	if err := e.c.UseKey(newKey(t)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("UseKey of a key not installed: %v", err)
	}
	if err := e.c.RemoveKey(e.c.Keys()[0]); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("RemoveKey of the primary key: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	nodes := startCluster(t, 3, withKeys(oldKey))
	waitMembers(t, nodes, 3)
	beforeRotation := time.Now()
	step := func(what string, f func(*Cluster) error) {
		t.Helper()
		for _, n := range nodes {
			if err := f(n.c); err != nil {
				t.Fatalf("%s on %s: %v", what, n.name, err)
			}
		}
	}
	step("InstallKey", func(c *Cluster) error { return c.InstallKey(newK) })
	step("UseKey", func(c *Cluster) error { return c.UseKey(newK) })
	step("RemoveKey", func(c *Cluster) error { return c.RemoveKey(oldKey) })
	for _, n := range nodes {
		if ks := n.c.Keys(); len(ks) != 1 || !bytes.Equal(ks[0], newK) {
			t.Fatalf("%s keys after rotation: %d keys", n.name, len(ks))
		}
	}
	// the cluster stays connected under the new key alone: every node
	// receives probes and gossip and merges a push/pull state (TCP) after
	// the old key is gone, and no member changed state since before the
	// rotation (a failed probe would have made one suspect, then dead)
	type mark struct{ udp, pushPulls uint64 }
	marks := make([]mark, len(nodes))
	for i, n := range nodes {
		marks[i] = mark{n.c.Traffic().UDPReceived, n.c.Stats().PushPulls}
	}
	eventually(t, 10*time.Second, "probes, gossip and a push/pull on every node under the new key", func() bool {
		for i, n := range nodes {
			if n.c.Traffic().UDPReceived < marks[i].udp+4096 || n.c.Stats().PushPulls <= marks[i].pushPulls {
				return false
			}
		}
		return true
	})
	for _, n := range nodes {
		for _, m := range n.c.Members() {
			if m.State != StateAlive || m.Since.After(beforeRotation) {
				t.Fatalf("%s sees %s %s since %v, after the rotation began at %v", n.name, m.Name, m.State, m.Since, beforeRotation)
			}
		}
	}
	ch := nodes[2].kv.put("app", "after-rotation", []byte("v"))
	waitKV(t, nodes, kvConvergence, ch)
	// the old key no longer gets in; the new one does
	cannotJoin(t, startNode(t, "old-key", withKeys(oldKey)), nodes)
	late := startNode(t, "new-key", withKeys(newK))
	if _, err := late.c.Join([]string{nodes[0].c.Addr()}); err != nil {
		t.Fatal(err)
	}
	waitKV(t, []*testNode{late}, 5*time.Second, ch)
}

// TestKeyOperationOnEveryMember rotates the key of a running cluster
// from one node with KeyOperation, as `wedge keys` does, and checks
// that each step reaches every member, that node-to-node HTTP (pulls of
// large values, module fetches) keeps working at every step, that each
// change is handed to OnKeysChange, and that a member that is down is
// reported, not skipped silently.
func TestKeyOperationOnEveryMember(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	var mu sync.Mutex
	saved := map[string][][]byte{}
	nodes := make([]*testNode, 4)
	for i := range nodes {
		name := fmt.Sprintf("node-%d", i)
		nodes[i] = startNode(t, name, withKeys(oldKey), func(c *Config) {
			c.OnKeysChange = func(keys [][]byte) error {
				mu.Lock()
				defer mu.Unlock()
				saved[name] = keys
				return nil
			}
		})
		if i > 0 {
			if _, err := nodes[i].c.Join([]string{nodes[0].c.Addr()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitMembers(t, nodes, 4)
	// One member goes down: a step reports it.
	_ = nodes[3].c.Shutdown()
	nodes = nodes[:3]
	eventually(t, 10*time.Second, "node-3 to be dead", func() bool {
		return nodes[0].c.NumAlive() == 3 && nodes[1].c.NumAlive() == 3 && nodes[2].c.NumAlive() == 3
	})

	ctx := context.Background()
	traffic := func(i int) {
		t.Helper()
		big := nodes[i].kv.put("app", fmt.Sprintf("big-%d", i), bytes.Repeat([]byte{'x'}, 8000))
		rec := nodes[i].publishFunction(fmt.Sprintf("fn-%d", i), fmt.Appendf(nil, "module %d", i), `{}`)
		waitKV(t, nodes, kvConvergence, big)
		eventually(t, 10*time.Second, "the function everywhere", func() bool {
			for _, n := range nodes {
				if !hasRecord(n, rec) {
					return false
				}
			}
			return true
		})
	}
	for i, step := range []struct {
		op      KeyOp
		key     []byte
		primary []byte
		keys    int
	}{{KeyInstall, newK, oldKey, 2}, {KeyUse, newK, newK, 2}, {KeyRemove, oldKey, newK, 1}} {
		res, err := nodes[1].c.KeyOperation(ctx, step.op, step.key)
		if err != nil {
			t.Fatalf("%s: %v", step.op, err)
		}
		if len(res) != 4 || res[0].Node != "node-1" {
			t.Fatalf("%s: %+v, want node-1 first and every member", step.op, res)
		}
		for _, nk := range res {
			if nk.Node == "node-3" {
				if nk.Error == "" {
					t.Fatalf("%s: the dead member reported no error", step.op)
				}
				continue
			}
			if nk.Error != "" || nk.Primary != KeyFingerprint(step.primary) || len(nk.Keys) != step.keys {
				t.Fatalf("%s on %s: %+v", step.op, nk.Node, nk)
			}
		}
		mu.Lock()
		for _, n := range nodes {
			if ks := saved[n.name]; len(ks) != step.keys || !bytes.Equal(ks[0], step.primary) {
				t.Fatalf("%s: %s persisted %d keys", step.op, n.name, len(ks))
			}
		}
		mu.Unlock()
		traffic(i % len(nodes))
	}
	list, err := nodes[2].c.KeyOperation(ctx, KeyList, nil)
	if err != nil || len(list) != 4 || list[0].Primary != KeyFingerprint(newK) {
		t.Fatalf("list: %+v %v", list, err)
	}
	if _, err := nodes[0].c.KeyOperation(ctx, KeyUse, newKey(t)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("use of a key not installed: %v", err)
	}
	if _, err := nodes[0].c.KeyOperation(ctx, "rotate", nil); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("unknown operation: %v", err)
	}
	cannotJoin(t, startNode(t, "old-key", withKeys(oldKey)), nodes)
	// A node started with the new key alone (a restart after the
	// rotation) catches up, over node-to-node HTTP too: with keys, the
	// peer secret comes from the keyring, not from Config.PeerSecret.
	late := startNode(t, "late", withKeys(newK), func(c *Config) { c.PeerSecret = []byte("ignored with keys") })
	if _, err := late.c.Join([]string{nodes[0].c.Addr()}); err != nil {
		t.Fatal(err)
	}
	big, _ := nodes[0].kv.get("app", "big-0")
	waitKV(t, []*testNode{late}, 10*time.Second, big)
}
