package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFetchBlob(t *testing.T) {
	nodes := startCluster(t, 3)
	blob := []byte("\x00asm\x01\x00\x00\x00 a module")
	sha := nodes[1].reg.addBlob(blob)
	ctx := context.Background()

	got, err := nodes[0].c.FetchBlob(ctx, sha, []string{"node-1"})
	if err != nil || string(got) != string(blob) {
		t.Fatalf("FetchBlob = %q, %v", got, err)
	}
	// without a hint it asks everyone until someone has it
	if got, err = nodes[2].c.FetchBlob(ctx, sha, nil); err != nil || string(got) != string(blob) {
		t.Fatalf("FetchBlob without a hint = %q, %v", got, err)
	}

	// a peer that serves other bytes under that sha is caught
	nodes[2].reg.mu.Lock()
	nodes[2].reg.blobs[sha] = []byte("tampered")
	nodes[2].reg.mu.Unlock()
	nodes[1].reg.mu.Lock()
	delete(nodes[1].reg.blobs, sha)
	nodes[1].reg.mu.Unlock()
	_, err = nodes[0].c.FetchBlob(ctx, sha, []string{"node-2"})
	if !errors.Is(err, ErrBlobMismatch) || !errors.Is(err, ErrBlobUnavailable) {
		t.Fatalf("tampered blob: err = %v, want ErrBlobMismatch and ErrBlobUnavailable", err)
	}
	if !strings.Contains(err.Error(), "node-2 sent 8 bytes with sha256") {
		t.Fatalf("error does not say who sent what: %v", err)
	}
	if n := nodes[0].c.Stats().BlobMismatches; n != 1 {
		t.Fatalf("BlobMismatches = %d", n)
	}
	// a good copy elsewhere is still found after the tampered one
	nodes[1].reg.addBlob(blob)
	if got, err = nodes[0].c.FetchBlob(ctx, sha, []string{"node-2", "node-1"}); err != nil || string(got) != string(blob) {
		t.Fatalf("FetchBlob past a tampered peer = %q, %v", got, err)
	}

	// unknown blob, bad sha, no peers
	missing := strings.Repeat("ab", 32)
	if _, err := nodes[0].c.FetchBlob(ctx, missing, nil); !errors.Is(err, ErrBlobUnavailable) || !errors.Is(err, ErrPeerRequest) {
		t.Fatalf("missing blob: %v", err)
	}
	if _, err := nodes[0].c.FetchBlob(ctx, "../../etc/passwd", nil); !errors.Is(err, ErrBlobUnavailable) {
		t.Fatalf("bad sha: %v", err)
	}
	alone := startNode(t, "alone")
	if _, err := alone.c.FetchBlob(ctx, sha, nil); !errors.Is(err, ErrNoPeers) {
		t.Fatalf("alone: %v", err)
	}
}

func TestFetchBlobSizeLimit(t *testing.T) {
	nodes := startCluster(t, 2, func(c *Config) { c.MaxBlobBytes = 100 })
	sha := nodes[1].reg.addBlob(make([]byte, 101))
	if _, err := nodes[0].c.FetchBlob(context.Background(), sha, nil); !errors.Is(err, ErrPeerRequest) || !strings.Contains(err.Error(), "larger than 100 bytes") {
		t.Fatalf("oversized blob: %v", err)
	}
}

// TestPeerAuth drives the internal handlers with raw requests.
func TestPeerAuth(t *testing.T) {
	clk := &shiftClock{}
	n := startNode(t, "server", func(c *Config) { c.Clock = clk })
	// The node's clock runs 10 minutes ahead of the one it started with,
	// so that requests stamped up to the window in the past are after
	// its start (it refuses requests signed before it started).
	clk.shift(10 * time.Minute)
	blob := []byte("module bytes")
	sha := n.reg.addBlob(blob)
	base := "http://" + n.cfg.Meta.AdminAddr
	path := "/v1/internal/blobs/" + sha
	now := clk.Now()

	do := func(method, uri, auth string) (int, string) {
		t.Helper()
		return rawPeerRequest(t, method, base+uri, auth, nil)
	}
	sign := func(secret []byte, method, uri string, at time.Time) string {
		return signPeer(secret, "peer", "server", method, uri, nil, at)
	}

	if code, body := do("GET", path, sign(testSecret, "GET", path, now)); code != 200 || body != string(blob) {
		t.Fatalf("signed request: %d %q", code, body)
	}
	v1 := "v1 peer " + strconv.FormatInt(now.Unix(), 10) + " " + strings.Repeat("ab", 32)
	cases := []struct{ name, uri, auth, want string }{
		{"missing header", path, "", "missing"},
		{"garbage", path, "Bearer x", "malformed"},
		{"the old v1 form", path, v1, "malformed"},
		{"wrong secret", path, sign(DerivePeerSecret([]byte("other")), "GET", path, now), "bad signature"},
		{"expired", path, sign(testSecret, "GET", path, now.Add(-6*time.Minute)), "away from"},
		{"from the future", path, sign(testSecret, "GET", path, now.Add(6*time.Minute)), "away from"},
		{"signed for another path", "/v1/internal/blobs/" + strings.Repeat("0", 64), sign(testSecret, "GET", path, now), "bad signature"},
		{"signed for another method", path, sign(testSecret, "POST", path, now), "bad signature"},
		{"signed for another node", path, signPeer(testSecret, "peer", "other", "GET", path, nil, now), "bad signature"},
		{"kv entries unsigned", "/v1/internal/kv/app?entries", "", "missing"},
		{"function unsigned", "/v1/internal/functions/x", "", "missing"},
		{"keys unsigned", "/v1/internal/keys", "", "missing"},
	}
	for _, tc := range cases {
		code, body := do("GET", tc.uri, tc.auth)
		if code != 401 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %q, want 401 mentioning %q", tc.name, code, body, tc.want)
		}
	}
	// within the window either way is fine
	if code, _ := do("GET", path, sign(testSecret, "GET", path, now.Add(-4*time.Minute))); code != 200 {
		t.Errorf("4 minutes old: %d", code)
	}
	if code, _ := do("GET", path, sign(testSecret, "GET", path, now.Add(4*time.Minute))); code != 200 {
		t.Errorf("4 minutes ahead: %d", code)
	}
	if got := n.c.Stats().AuthFailures; got != uint64(len(cases)) {
		t.Errorf("AuthFailures = %d, want %d", got, len(cases))
	}

	// a node with another secret cannot fetch from it
	other := startNode(t, "other", func(c *Config) { c.PeerSecret = DerivePeerSecret([]byte("other")) })
	if _, err := other.c.Join([]string{n.c.Addr()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "membership", func() bool { return other.c.NumAlive() == 2 })
	if _, err := other.c.FetchBlob(context.Background(), sha, nil); !errors.Is(err, ErrPeerRequest) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("fetch with the wrong secret: %v", err)
	}
}

func TestPeerSignatureCoversBody(t *testing.T) {
	now := time.Now()
	secrets := [][]byte{testSecret}
	h := signPeer(testSecret, "n", "m", "POST", "/v1/internal/kv/a?records", []byte("body"), now)
	if _, err := verifyPeer(secrets, h, "m", "POST", "/v1/internal/kv/a?records", []byte("body"), now); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyPeer(secrets, h, "m", "POST", "/v1/internal/kv/a?records", []byte("other"), now); !errors.Is(err, ErrPeerAuth) {
		t.Fatalf("changed body accepted: %v", err)
	}
	if r, _ := verifyPeer(secrets, h, "m", "POST", "/v1/internal/kv/a?records", []byte("body"), now); r.from != "n" {
		t.Fatalf("node = %q", r.from)
	}
}

func TestValidSHA256(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	good := hex.EncodeToString(sum[:])
	if !ValidSHA256(good) || ValidSHA256(strings.ToUpper(good)) || ValidSHA256(good[:63]) || ValidSHA256(good+"0") || ValidSHA256("") {
		t.Fatal("ValidSHA256 wrong")
	}
}

// TestShutdownAbortsFetch: a fetch from a peer that does not answer ends
// when the node shuts down, whatever context the caller gave it, so a
// node stopping while it installs a module does not hang.
func TestShutdownAbortsFetch(t *testing.T) {
	nodes := startCluster(t, 2)
	stuck := make(chan struct{})
	defer close(stuck)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// node-1's admin address now points at a server that never answers.
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() { <-stuck; c.Close() }()
		}
	}()
	defer ln.Close()
	nodes[0].c.members.mu.Lock()
	m := nodes[0].c.members.m["node-1"]
	m.Meta.AdminAddr = ln.Addr().String()
	nodes[0].c.members.mu.Unlock()

	done := make(chan error, 1)
	go func() {
		_, err := nodes[0].c.FetchBlob(context.Background(), strings.Repeat("a", 64), []string{"node-1"})
		done <- err
	}()
	// The fetch is in flight once the stuck server has its connection.
	eventually(t, 10*time.Second, "the fetch to connect", func() bool { return accepted.Load() > 0 })
	start := time.Now()
	_ = nodes[0].c.Shutdown()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the fetch succeeded")
		}
		t.Logf("fetch ended %v after Shutdown: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(5 * time.Second):
		t.Fatal("the fetch still runs 5 s after Shutdown")
	}
}
