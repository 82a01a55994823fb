package node_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// fetchRequest is the body the fetch.wat guest expects.
func fetchRequest(method, url string, body []byte) []byte {
	req := abi.EncodeOutboundRequest(nil, method, url, nil)
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(req)))
	return append(append(out, req...), body...)
}

// TestOutboundThroughNode deploys the fetch guest through the admin API
// with allow_host, calls a local server through the gateway, and checks
// the refusals, the logs and /metrics.
func TestOutboundThroughNode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "yes")
		io.WriteString(w, "hello from upstream "+r.Header.Get("X-Request-Id"))
	}))
	defer srv.Close()
	src, err := os.ReadFile("../runtime/testdata/fetch.wat")
	if err != nil {
		t.Fatal(err)
	}
	wasm := testutil.WAT(t, string(src))
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	ctx := context.Background()
	_, adminPort, _ := net.SplitHostPort(strings.TrimPrefix(n.AdminURL(), "http://"))

	f, _, err := cl.Deploy(ctx, "fetch", wasm, client.DeployOptions{Routes: []string{"/fetch"},
		AllowedHosts: []string{srv.URL + "/", "http://127.0.0.1:" + adminPort}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.AllowedHosts) != 2 || f.AllowedHosts[0] != srv.URL {
		t.Fatalf("allowed hosts stored as %q", f.AllowedHosts)
	}
	call := func(url string) testutil.Response {
		return testutil.Do(t, "POST", n.PublicURL()+"/fetch", bytes.NewReader(fetchRequest("GET", url, nil)), nil)
	}
	r := call(srv.URL + "/x")
	if r.Status != 200 || !strings.HasPrefix(r.Body, "hello from upstream ") || r.Header.Get("X-Upstream") != "yes" {
		t.Fatalf("allowed call: %d %q", r.Status, r.Body)
	}
	if len(r.Body) <= len("hello from upstream ") {
		t.Fatalf("the request id was not forwarded: %q", r.Body)
	}
	// The admin port stays out of reach though 127.0.0.1 is allowed on it.
	if r := call(n.AdminURL() + "/v1/functions"); r.Status != 600+int(abi.ErrDenied) {
		t.Fatalf("admin port: %d %q", r.Status, r.Body)
	}
	// Not on the list.
	if r := call("http://127.0.0.1:1/"); r.Status != 600+int(abi.ErrDenied) {
		t.Fatalf("unlisted: %d %q", r.Status, r.Body)
	}
	var logs []string
	if err := cl.Logs(ctx, "fetch", 100, false, func(e client.LogEntry) { logs = append(logs, e.Message) }); err != nil {
		t.Fatal(err)
	}
	testutil.Contains(t, strings.Join(logs, "\n"), "refused: http://127.0.0.1:1", "refused: 127.0.0.1:"+adminPort+": ")

	m := testutil.Do(t, "GET", n.AdminURL()+"/metrics", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	testutil.Contains(t, m.Body, `wedge_outbound_requests_total{function="fetch",host="127.0.0.1"} 3`,
		`wedge_outbound_errors_total{function="fetch",host="127.0.0.1",kind="denied"} 1`,
		`wedge_outbound_errors_total{function="fetch",host="127.0.0.1",kind="blocked"} 1`,
		`wedge_outbound_duration_seconds_count{function="fetch",host="127.0.0.1"}`)

	// A bad entry is refused at deploy.
	if _, _, err := cl.Deploy(ctx, "bad", wasm, client.DeployOptions{AllowedHosts: []string{"ftp://x"}}); err == nil || !strings.Contains(err.Error(), "allowed host") {
		t.Fatalf("bad allow_host: %v", err)
	}
}

// TestGoFetchHTTPS is the "done when": a Go function calls an
// HTTPS API on 127.0.0.1 with http.Get (through the SDK's transport),
// trusted through the node's --outbound-ca bundle, deployed with
// --allow-host, and answers with what it got; its context deadline is
// honoured.
func TestGoFetchHTTPS(t *testing.T) {
	release := make(chan struct{})
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
				// The caller gave up: send nothing (returning would
				// write an empty 200 on whatever is left of the
				// connection, which once reached the guest in a -race run).
				panic(http.ErrAbortHandler)
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"answer":42}`)
	}))
	defer api.Close()
	defer close(release)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	n := testutil.StartNode(t, "", func(c *node.Config) { c.OutboundCA = caFile })
	wasm := testutil.BuildGoWasm(t, "examples/go-fetch", true)
	if _, _, err := testutil.Client(n).Deploy(context.Background(), "fetch", wasm, client.DeployOptions{
		Routes: []string{"/fetch"}, AllowedHosts: []string{api.URL}}); err != nil {
		t.Fatal(err)
	}
	r := testutil.Get(t, n.PublicURL()+"/fetch?url="+url.QueryEscape(api.URL+"/v1/answer"))
	if r.Status != 200 {
		t.Fatalf("fetch: %d %q", r.Status, r.Body)
	}
	testutil.Contains(t, r.Body, "status: 200", "content-type: application/json", `{"answer":42}`)

	// Refused: not on the list.
	r = testutil.Get(t, n.PublicURL()+"/fetch?url="+url.QueryEscape("https://127.0.0.1:1/"))
	if r.Status != 502 || !strings.Contains(r.Body, "denied") {
		t.Fatalf("unlisted: %d %q", r.Status, r.Body)
	}
	// The guest's 3 s context deadline ends the call, not the server.
	r = testutil.Get(t, n.PublicURL()+"/fetch?url="+url.QueryEscape(api.URL+"/slow"))
	if r.Status != 502 || !strings.Contains(r.Body, "deadline exceeded") {
		t.Fatalf("slow: %d %q", r.Status, r.Body)
	}
}

// TestClusterReplicatesAllowedHosts deploys on one node and calls the
// allowed destination through another: the allow-list travels with the
// function record.
func TestClusterReplicatesAllowedHosts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "reached")
	}))
	defer srv.Close()
	src, err := os.ReadFile("../runtime/testdata/fetch.wat")
	if err != nil {
		t.Fatal(err)
	}
	n1 := clusterNode(t, "n1", nil, testKey)
	n2 := clusterNode(t, "n2", n1, testKey)
	testutil.Eventually(t, 5*time.Second, "2 alive members", func() bool { return alive(n1) == 2 && alive(n2) == 2 })
	if _, _, err := testutil.Client(n1).Deploy(context.Background(), "fetch", testutil.WAT(t, string(src)),
		client.DeployOptions{Routes: []string{"/fetch"}, AllowedHosts: []string{srv.URL}}); err != nil {
		t.Fatal(err)
	}
	// n2's own record first: until n2 installed it, its gateway forwards
	// the request to n1, whose answer says nothing about n2's copy.
	testutil.Eventually(t, 15*time.Second, "n2's record with the allowed host", func() bool {
		f, err := testutil.Client(n2).Get(context.Background(), "fetch")
		return err == nil && len(f.AllowedHosts) == 1 && f.AllowedHosts[0] == srv.URL
	})
	body := fetchRequest("GET", srv.URL+"/", nil)
	testutil.Eventually(t, 15*time.Second, "the allowed call served by n2", func() bool {
		r := testutil.Do(t, "POST", n2.PublicURL()+"/fetch", bytes.NewReader(body), nil)
		return r.Status == 200 && r.Body == "reached"
	})
}
