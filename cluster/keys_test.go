package cluster

import (
	"bytes"
	"crypto/rand"
	"errors"
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
	// the cluster stays connected: probes keep succeeding for a few
	// suspicion timeouts, and gossip still flows
	time.Sleep(2 * time.Second)
	for _, n := range nodes {
		for _, m := range n.c.Members() {
			if m.State != StateAlive {
				t.Fatalf("%s sees %s %s after the rotation", n.name, m.Name, m.State)
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
