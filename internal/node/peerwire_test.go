package node_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// wireRecorder keeps the raw bytes of every node-to-node HTTP
// connection, both ways, as they crossed the socket.
type wireRecorder struct {
	mu    sync.Mutex
	conns []*recordedConn
}

type recordedConn struct {
	net.Conn
	mu      sync.Mutex
	sent    bytes.Buffer // requests
	receive bytes.Buffer // answers
}

func (c *recordedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.mu.Lock()
	c.sent.Write(b[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recordedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.receive.Write(b[:n])
	c.mu.Unlock()
	return n, err
}

func (w *wireRecorder) client() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DisableCompression: true, // as the default peer client: bytes on the wire are the bytes sent
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			rc := &recordedConn{Conn: c}
			w.mu.Lock()
			w.conns = append(w.conns, rc)
			w.mu.Unlock()
			return rc, nil
		},
	}}
}

// exchange is one request and its answer, parsed from the raw bytes.
type exchange struct {
	path string
	body []byte // the answer's
}

// captured returns everything recorded, raw, and the exchanges parsed
// from it.
func (w *wireRecorder) captured(t *testing.T) ([]byte, []exchange) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var raw []byte
	var out []exchange
	for _, c := range w.conns {
		c.mu.Lock()
		sent, got := bytes.Clone(c.sent.Bytes()), bytes.Clone(c.receive.Bytes())
		c.mu.Unlock()
		raw = append(append(raw, sent...), got...)
		reqs, resps := bufio.NewReader(bytes.NewReader(sent)), bufio.NewReader(bytes.NewReader(got))
		for {
			req, err := http.ReadRequest(reqs)
			if err != nil {
				break
			}
			_, _ = io.Copy(io.Discard, req.Body)
			resp, err := http.ReadResponse(resps, req)
			if err != nil {
				break // the answer was not (completely) received
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("reading a recorded answer: %v", err)
			}
			out = append(out, exchange{path: req.URL.Path, body: b})
		}
	}
	return raw, out
}

// wireRecord is the part of a function record on the wire the test
// reads: its name and spec.
type wireRecord struct {
	Name string `json:"n"`
	Spec []byte `json:"s"`
}

// secretGuest answers with its configuration value TOKEN.
const secretGuestWAT = `(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (import "wedge_v1" "config_get" (func $cfg (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "TOKEN")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (drop (call $write (i32.const 64) (call $cfg (i32.const 0) (i32.const 5) (i32.const 64) (i32.const 1024))))
    (i32.const 0)))`

// containsBase64Of reports whether some run of base64 characters in raw
// decodes, at any alignment, to bytes holding secret.
func containsBase64Of(raw []byte, secret string) bool {
	isB64 := func(c byte) bool {
		return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
	}
	for i := 0; i < len(raw); {
		if !isB64(raw[i]) {
			i++
			continue
		}
		j := i
		for j < len(raw) && isB64(raw[j]) {
			j++
		}
		for off := 0; off < 4 && i+off < j; off++ {
			run := raw[i+off : j]
			run = run[:len(run)/4*4]
			dec, err := base64.StdEncoding.DecodeString(string(run))
			if err == nil && bytes.Contains(dec, []byte(secret)) {
				return true
			}
		}
		i = j
	}
	return false
}

// TestPeerWireHoldsNoSecret: two real nodes on 127.0.0.1; function
// records with secrets reach the second node over node-to-node HTTP
// (the record list of the join's repair, and a record too large for
// gossip, announced and then fetched). The raw bytes of every peer connection hold
// no secret, in plaintext or base64, while the second node has the
// secrets and its functions read them.
func TestPeerWireHoldsNoSecret(t *testing.T) {
	rec := &wireRecorder{}
	node.SetPeerHTTPClient(t, rec.client())
	secret := func() string {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		return "s3cret-" + hex.EncodeToString(b)
	}
	small, large := secret(), secret()
	wasm := testutil.WAT(t, secretGuestWAT)

	a := clusterNode(t, "wa", nil, testKey)
	req := registryRequest("small", wasm, map[string]string{"MODE": "plain"}, nil)
	req.Routes, req.Secrets = []string{"/small"}, map[string]string{"TOKEN": small}
	if _, _, err := a.Registry.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	// b joins after the deploy: it learns "small" from the repair that
	// follows the join's push/pull (GET /v1/internal/functions/).
	b := clusterNode(t, "wb", a, testKey)
	testutil.Eventually(t, 10*time.Second, "2 alive members", func() bool { return alive(a) == 2 && alive(b) == 2 })
	// "large" does not fit a gossip packet: b fetches its record alone
	// (GET /v1/internal/functions/large).
	req = registryRequest("large", wasm, map[string]string{"PADDING": strings.Repeat("p", 1500)}, nil)
	req.Routes, req.Secrets = []string{"/large"}, map[string]string{"TOKEN": large}
	if _, _, err := a.Registry.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"small": small, "large": large} {
		testutil.Eventually(t, 10*time.Second, name+" installed on wb with its secret", func() bool {
			g, ok := b.Registry.Get(name)
			return ok && g.Record.Secrets["TOKEN"] == want
		})
	}
	// Only b is left: the functions answer from b with their secrets.
	a.Close()
	for path, want := range map[string]string{"/small": small, "/large": large} {
		testutil.Eventually(t, 10*time.Second, path+" served by wb", func() bool {
			r := testutil.Get(t, b.PublicURL()+path)
			return r.Status == 200 && r.Body == want
		})
	}

	raw, exchanges := rec.captured(t)
	var list, single int
	onWire := map[string]int{}
	for _, x := range exchanges {
		var recs []wireRecord
		switch {
		case x.path == "/v1/internal/functions/":
			if err := json.Unmarshal(x.body, &recs); err != nil {
				t.Fatalf("record list on the wire: %v: %q", err, x.body)
			}
			list++
		case strings.HasPrefix(x.path, "/v1/internal/functions/"):
			recs = make([]wireRecord, 1)
			if err := json.Unmarshal(x.body, &recs[0]); err != nil {
				t.Fatalf("record on the wire: %v: %q", err, x.body)
			}
			single++
		default:
			continue
		}
		for _, r := range recs {
			onWire[r.Name]++
			for _, s := range []string{small, large} {
				if bytes.Contains(r.Spec, []byte(s)) {
					t.Errorf("record %s on the wire (%s) holds a secret in its spec: %.300s", r.Name, x.path, r.Spec)
				}
			}
			if (r.Name == "small" || r.Name == "large") && !bytes.Contains(r.Spec, []byte(`"sealed_secrets"`)) {
				t.Errorf("record %s on the wire carries no sealed secrets: %.300s", r.Name, r.Spec)
			}
		}
	}
	// Each record reached wb over HTTP ("large" cannot fit a gossip
	// packet; "small" was in the join's repair), whichever endpoint.
	if onWire["small"] == 0 || onWire["large"] == 0 {
		t.Fatalf("records on the wire: %v (%d lists, %d single records, %d exchanges); want small and large", onWire, list, single, len(exchanges))
	}
	for _, s := range []string{small, large} {
		if bytes.Contains(raw, []byte(s)) || containsBase64Of(raw, s) {
			t.Errorf("secret %s crossed the wire readable", s)
		}
	}
	t.Logf("%d peer exchanges, %d bytes recorded, no secret in them", len(exchanges), len(raw))
}
