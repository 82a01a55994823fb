package cluster

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// shiftClock is the system clock moved by an offset a test can change.
type shiftClock struct{ d atomic.Int64 }

func (c *shiftClock) Now() time.Time        { return time.Now().Add(time.Duration(c.d.Load())) }
func (c *shiftClock) shift(d time.Duration) { c.d.Add(int64(d)) }

// rawPeerRequest sends one request with the given peer auth header and
// returns the status and body.
func rawPeerRequest(t testing.TB, method, url, auth string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set(PeerAuthHeader, auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// capturedRequest is a node-to-node request as it went on the wire.
type capturedRequest struct {
	method, url string
	header      http.Header
	body        []byte
}

// recordingTransport records every request a node sends to its peers.
type recordingTransport struct {
	mu   sync.Mutex
	reqs []capturedRequest
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, capturedRequest{method: req.Method, url: req.URL.String(), header: req.Header.Clone(), body: body})
	rt.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (rt *recordingTransport) find(t testing.TB, method, pathPart string) capturedRequest {
	t.Helper()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, r := range rt.reqs {
		if r.method == method && strings.Contains(r.url, pathPart) {
			return r
		}
	}
	t.Fatalf("no %s request to %s captured", method, pathPart)
	return capturedRequest{}
}

// replay sends a captured request again, byte for byte, to url.
func (r capturedRequest) replay(t testing.TB, url string) (int, string) {
	t.Helper()
	return rawPeerRequest(t, r.method, url, r.header.Get(PeerAuthHeader), r.body)
}

// TestPeerReplayRefused: a signed request captured on its way to a
// node is refused when sent again, to the same node or to another; the
// first copy was served.
func TestPeerReplayRefused(t *testing.T) {
	rec := &recordingTransport{}
	nodes := startCluster(t, 3, func(c *Config) {
		if c.NodeName == "node-0" {
			c.HTTPClient = &http.Client{Transport: rec}
		}
	})
	blob := []byte("\x00asm\x01\x00\x00\x00 a module")
	sha := nodes[1].reg.addBlob(blob)
	nodes[2].reg.addBlob(blob)
	if _, err := nodes[0].c.FetchBlob(context.Background(), sha, []string{"node-1"}); err != nil {
		t.Fatal(err)
	}
	got := rec.find(t, "GET", "/v1/internal/blobs/"+sha)
	if !strings.Contains(got.url, nodes[1].cfg.Meta.AdminAddr) {
		t.Fatalf("captured %s, want a request to node-1", got.url)
	}
	before := nodes[1].c.Stats()
	for i := range 4 {
		code, body := got.replay(t, got.url)
		if code != 401 || !strings.Contains(body, "replayed") {
			t.Fatalf("replay %d: %d %q, want 401 replayed", i+1, code, body)
		}
	}
	after := nodes[1].c.Stats()
	if after.Replays-before.Replays != 4 || after.AuthFailures-before.AuthFailures != 4 {
		t.Errorf("replays counted %d, auth failures %d; want 4 and 4", after.Replays-before.Replays, after.AuthFailures-before.AuthFailures)
	}
	// The same bytes to another node that holds the blob: signed for node-1.
	code, body := got.replay(t, "http://"+nodes[2].cfg.Meta.AdminAddr+"/v1/internal/blobs/"+sha)
	if code != 401 || !strings.Contains(body, "bad signature") {
		t.Fatalf("replay to another node: %d %q, want 401", code, body)
	}
}

// TestPeerKeyOperationReplayRefused: a captured key rotation step
// cannot be replayed: the member refuses it and its keyring stays as
// it is.
func TestPeerKeyOperationReplayRefused(t *testing.T) {
	rec := &recordingTransport{}
	k1, k2 := newKey(t), newKey(t)
	nodes := startCluster(t, 2, withKeys(k1), func(c *Config) {
		if c.NodeName == "node-0" {
			c.HTTPClient = &http.Client{Transport: rec}
		}
	})
	res, err := nodes[0].c.KeyOperation(context.Background(), KeyInstall, k2)
	if err != nil {
		t.Fatal(err)
	}
	for _, nk := range res {
		if nk.Error != "" || len(nk.Keys) != 2 {
			t.Fatalf("install on %s: %+v", nk.Node, nk)
		}
	}
	captured := rec.find(t, "POST", "/v1/internal/keys")
	// The operator takes the key back out of node-1; the attacker
	// replays the install.
	if err := nodes[1].c.RemoveKey(k2); err != nil {
		t.Fatal(err)
	}
	code, body := captured.replay(t, captured.url)
	if code != 401 || !strings.Contains(body, "replayed") {
		t.Fatalf("replayed key install: %d %q, want 401 replayed", code, body)
	}
	if keys := nodes[1].c.Keys(); len(keys) != 1 || !bytes.Equal(keys[0], k1) {
		t.Fatalf("node-1's keyring after the replay holds %d keys", len(keys))
	}
}

// TestPeerSignatureBindsRequest: a signed request changed in its body,
// path, query or method is refused; the unchanged one is served.
func TestPeerSignatureBindsRequest(t *testing.T) {
	n := startNode(t, "server")
	n.kv.put("app", "k", []byte("v"))
	base := "http://" + n.cfg.Meta.AdminAddr
	uri := "/v1/internal/kv/app?records"
	body := appendStr(nil, "k")
	sign := func() string { return signPeer(testSecret, "peer", "server", "POST", uri, body, time.Now()) }

	cases := []struct {
		name, method, uri string
		body              []byte
	}{
		{"body changed", "POST", uri, appendStr(nil, "other")},
		{"body extended", "POST", uri, append(appendStr(nil, "k"), appendStr(nil, "x")...)},
		{"path changed", "POST", "/v1/internal/kv/other?records", body},
		{"query changed", "POST", uri + "&x=1", body},
		{"query moved into the path", "POST", "/v1/internal/kv/app%3Frecords", body},
		{"method changed", "GET", "/v1/internal/kv/app?entries", nil},
	}
	for _, tc := range cases {
		code, resp := rawPeerRequest(t, tc.method, base+tc.uri, sign(), tc.body)
		if code != 401 || !strings.Contains(resp, "bad signature") {
			t.Errorf("%s: %d %q, want 401 bad signature", tc.name, code, resp)
		}
	}
	if code, resp := rawPeerRequest(t, "POST", base+uri, sign(), body); code != 200 || !strings.Contains(resp, "k") {
		t.Fatalf("the request as signed: %d %q", code, resp)
	}
}

// TestPeerRefusesRequestsSignedBeforeStart: a node that restarted has
// forgotten the nonces it saw, so it refuses anything signed before it
// started, even within the window.
func TestPeerRefusesRequestsSignedBeforeStart(t *testing.T) {
	path := "/v1/internal/functions/"
	auth := signPeer(testSecret, "peer", "server", "GET", path, nil, time.Now().Add(-time.Minute))
	n := startNode(t, "server")
	code, body := rawPeerRequest(t, "GET", "http://"+n.cfg.Meta.AdminAddr+path, auth, nil)
	if code != 401 || !strings.Contains(body, "replay cache") {
		t.Fatalf("request signed before the start: %d %q", code, body)
	}
	auth = signPeer(testSecret, "peer", "server", "GET", path, nil, time.Now())
	if code, body := rawPeerRequest(t, "GET", "http://"+n.cfg.Meta.AdminAddr+path, auth, nil); code != 200 {
		t.Fatalf("fresh request: %d %q", code, body)
	}
}

// TestReplayCacheBounded: the cache never holds more than its size,
// forgets nonces once out of the window, and refuses a replay of a
// nonce it dropped to make room.
func TestReplayCacheBounded(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	rc := newReplayCache(64, PeerAuthWindow, start)
	nonce := func(i int) (n [peerNonceLen]byte) {
		n[0], n[1], n[2] = byte(i), byte(i>>8), byte(i>>16)
		return n
	}
	now := start.Add(time.Second)
	for i := range 10_000 {
		at := start.Add(time.Duration(i)*time.Millisecond).UnixMilli() + 1
		if err := rc.accept(nonce(i), at, now); err != nil {
			t.Fatalf("nonce %d: %v", i, err)
		}
		if rc.len() > 64 {
			t.Fatalf("cache holds %d nonces after %d requests, bound 64", rc.len(), i+1)
		}
		if err := rc.accept(nonce(i), at, now); !errors.Is(err, ErrPeerAuth) {
			t.Fatalf("nonce %d accepted twice: %v", i, err)
		}
	}
	// The first nonce was dropped long ago: its replay is still refused.
	first := start.UnixMilli() + 1
	if err := rc.accept(nonce(0), first, now); err == nil || !strings.Contains(err.Error(), "older") {
		t.Fatalf("replay of a dropped nonce: %v", err)
	}
	// A full cache refuses a new nonce older than everything it holds,
	// and takes a newer one.
	if err := rc.accept(nonce(20_000), start.UnixMilli()+9_000, now); err == nil {
		t.Fatal("a request older than the whole full cache was accepted")
	}
	if err := rc.accept(nonce(20_001), start.UnixMilli()+20_000, now); err != nil {
		t.Fatalf("newer request on a full cache: %v", err)
	}
	// Once the window has passed, every nonce is forgotten.
	later := start.Add(time.Minute + 2*PeerAuthWindow)
	if err := rc.accept(nonce(30_000), later.UnixMilli(), later); err != nil {
		t.Fatal(err)
	}
	if n := rc.len(); n != 1 {
		t.Fatalf("after the window the cache holds %d nonces, want 1", n)
	}
}
