package node_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
)

// The Go SDK examples, built with the real Go toolchain and served by the
// real runtime through the gateway.

func TestGoSDKHello(t *testing.T) {
	n := testutil.StartNode(t, "")
	deploy(t, n, "go-hello", testutil.BuildGoWasm(t, "examples/go-hello", true), "/go/hello")
	r := testutil.Get(t, n.PublicURL()+"/go/hello?name=tester")
	if r.Status != 200 || r.Body != "hello from wedge, tester\n" {
		t.Fatalf("%+v", r)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q", ct)
	}
	if r := testutil.Do(t, "POST", n.PublicURL()+"/go/hello", nil, nil); r.Status != 405 || r.Header.Get("Allow") == "" {
		t.Fatalf("POST: %+v", r)
	}
}

func TestGoSDKEcho(t *testing.T) {
	n := testutil.StartNode(t, "")
	deploy(t, n, "go-echo", testutil.BuildGoWasm(t, "examples/go-echo", true), "/echo/...")

	// Headers, query and a 1 MiB body reach the handler intact.
	body := make([]byte, 1<<20)
	rand.Read(body)
	sum := sha256.Sum256(body)
	r := testutil.Do(t, "PUT", n.PublicURL()+"/echo/some/path?a=1&b=two&a=3", bytes.NewReader(body),
		map[string]string{"X-Custom": "value", "Content-Type": "application/octet-stream"})
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var echo map[string]any
	if err := json.Unmarshal([]byte(r.Body), &echo); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	testutil.Contains(t, r.Body, `"PUT"`, "/echo/some/path", hex.EncodeToString(sum[:]), `"X-Custom"`, "value", `"two"`)
	if got := int(echo["body_length"].(float64)); got != len(body) {
		t.Fatalf("body length %d", got)
	}

	// Status and custom header.
	r = testutil.Get(t, n.PublicURL()+"/echo/status?code=418")
	if r.Status != 418 {
		t.Fatalf("status: %+v", r)
	}
	// A streamed response arrives whole.
	r = testutil.Get(t, n.PublicURL()+"/echo/stream?n=50")
	if r.Status != 200 || strings.Count(r.Body, "\n") < 50 {
		t.Fatalf("stream: %d %q", r.Status, r.Body)
	}
	// A panicking handler: 500, the panic text in the logs, the node fine.
	r = testutil.Get(t, n.PublicURL()+"/echo/panic")
	if r.Status != 500 {
		t.Fatalf("panic: %+v", r)
	}
	var lines []string
	testutil.Client(n).Logs(ctx, "go-echo", 50, false, func(e client.LogEntry) { lines = append(lines, e.Message) })
	testutil.Contains(t, strings.Join(lines, "\n"), "panic")
	if r := testutil.Get(t, n.PublicURL()+"/echo/status?code=200"); r.Status != 200 {
		t.Fatalf("after panic: %+v", r)
	}
}
