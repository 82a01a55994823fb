package node_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/client"
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
