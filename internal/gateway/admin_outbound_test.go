package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
)

// twiceWAT GETs url twice per invocation, reading each body to the end,
// and answers "ok"; the first failure answers 600 + its error code.
func twiceWAT(url string) string {
	req := abi.EncodeOutboundRequest(nil, "GET", url, nil)
	var data strings.Builder
	for _, ch := range req {
		fmt.Fprintf(&data, "\\%02x", ch)
	}
	return fmt.Sprintf(`(module
  (import "wedge_v1" "http_send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "wedge_v1" "http_response_read" (func $read (param i32 i32 i32) (result i32)))
  (import "wedge_v1" "http_close" (func $close (param i32) (result i32)))
  (import "wedge_v1" "response_head" (func $head (param i32 i32 i32) (result i32)))
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\00\00\00\00ok")
  (data (i32.const 1024) "%s")
  (func $get (result i32)
    (local $h i32) (local $n i32)
    (local.set $h (call $send (i32.const 1024) (i32.const %d) (i32.const 0) (i32.const 0)))
    (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (local.get $h))))
    (block $end (loop $more
      (local.set $n (call $read (local.get $h) (i32.const 8192) (i32.const 8192)))
      (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (local.get $n))))
      (br_if $end (i32.eqz (local.get $n)))
      (br $more)))
    (drop (call $close (local.get $h)))
    (i32.const 0))
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (local $r i32)
    (local.set $r (call $get))
    (if (i32.eqz (local.get $r)) (then (local.set $r (call $get))))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then
      (drop (call $head (i32.sub (i32.const 600) (local.get $r)) (i32.const 16) (i32.const 4)))
      (return (i32.const 0))))
    (drop (call $write (i32.const 20) (i32.const 2)))
    (i32.const 0)))`, data.String(), len(req))
}

// TestAdminOutboundLimits: the outbound_* query parameters of PUT
// /v1/functions/{name} are stored and shown by GET, out-of-range values
// are refused with 400 naming the parameter, and each one takes effect on
// a function calling a local server: outbound_max_requests=1 refuses the
// second request of an invocation with busy, outbound_max_response_bytes
// below the body refuses it with too_large, outbound_timeout_ms stops a
// slow server with timed_out.
func TestAdminOutboundLimits(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		io.WriteString(w, "pong")
	}))
	defer srv.Close()
	defer close(release)
	n := testutil.StartNode(t, "")
	base := n.AdminURL()
	cl := testutil.Client(n)
	ctx := context.Background()
	allow := "&allow_host=" + srv.URL
	wasm := testutil.WAT(t, twiceWAT(srv.URL+"/"))

	deploy := func(name, query string, wasm []byte) testutil.Response {
		t.Helper()
		return admin(t, "PUT", base+"/v1/functions/"+name+"?route=/"+name+allow+query, wasm, testutil.Token)
	}
	call := func(name string) testutil.Response {
		t.Helper()
		return testutil.Do(t, "GET", n.PublicURL()+"/"+name, nil, nil)
	}

	// Stored and shown.
	if r := deploy("limited", "&outbound_timeout_ms=1500&outbound_max_response_bytes=4096&outbound_max_requests=1", wasm); r.Status != http.StatusCreated {
		t.Fatalf("deploy: %d %s", r.Status, r.Body)
	}
	f, err := cl.Get(ctx, "limited")
	if err != nil {
		t.Fatal(err)
	}
	if l := f.Limits; l.OutboundTimeoutMS != 1500 || l.OutboundMaxResponseBytes != 4096 || l.OutboundMaxRequests != 1 {
		t.Fatalf("GET shows limits %+v", l)
	}
	var raw struct {
		Limits map[string]int64 `json:"limits"`
	}
	g := admin(t, "GET", base+"/v1/functions/limited", nil, testutil.Token)
	if err := json.Unmarshal([]byte(g.Body), &raw); err != nil || raw.Limits["outbound_max_requests"] != 1 ||
		raw.Limits["outbound_timeout_ms"] != 1500 || raw.Limits["outbound_max_response_bytes"] != 4096 {
		t.Fatalf("GET JSON: %v %s", err, g.Body)
	}

	// In effect: the second request of an invocation is refused, busy.
	if r := call("limited"); r.Status != 600+int(abi.ErrBusy) {
		t.Fatalf("max_requests=1: %d %q, want %d", r.Status, r.Body, 600+int(abi.ErrBusy))
	}
	// The default budget allows both.
	if r := deploy("free", "", wasm); r.Status != http.StatusCreated {
		t.Fatalf("deploy free: %d %s", r.Status, r.Body)
	}
	if r := call("free"); r.Status != 200 || r.Body != "ok" {
		t.Fatalf("default limits: %d %q", r.Status, r.Body)
	}
	// A 4-byte body over a 3-byte limit.
	if r := deploy("small", "&outbound_max_response_bytes=3", wasm); r.Status != http.StatusCreated {
		t.Fatalf("deploy small: %d %s", r.Status, r.Body)
	}
	if r := call("small"); r.Status != 600+int(abi.ErrTooLarge) {
		t.Fatalf("max_response_bytes=3: %d %q, want %d", r.Status, r.Body, 600+int(abi.ErrTooLarge))
	}
	// A server that does not answer, stopped at the outbound timeout
	// long before the function's own.
	if r := deploy("slow", "&outbound_timeout_ms=100&timeout_ms=10000", testutil.WAT(t, twiceWAT(srv.URL+"/slow"))); r.Status != http.StatusCreated {
		t.Fatalf("deploy slow: %d %s", r.Status, r.Body)
	}
	if r := call("slow"); r.Status != 600+int(abi.ErrTimedOut) {
		t.Fatalf("outbound_timeout_ms=100: %d %q, want %d", r.Status, r.Body, 600+int(abi.ErrTimedOut))
	}

	// Out of range: refused with 400 naming the parameter, nothing stored.
	for _, q := range []string{
		"outbound_max_requests=-1",
		"outbound_max_requests=10001",
		"outbound_max_requests=99999999999",
		"outbound_timeout_ms=abc",
		"outbound_timeout_ms=" + fmt.Sprint(abi.MaxTimeout.Milliseconds()+1),
		"outbound_timeout_ms=9223372036854775807",
		"outbound_max_response_bytes=" + fmt.Sprint(int64(abi.MaxMaxResponseBytes)+1),
		"outbound_max_response_bytes=-5",
	} {
		r := deploy("bad", "&"+q, wasm)
		key, _, _ := strings.Cut(q, "=")
		words := strings.ReplaceAll(strings.TrimPrefix(key, "outbound_"), "_", " ")
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, key) && !strings.Contains(r.Body, "outbound "+strings.TrimSuffix(words, " ms")) {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	if _, err := cl.Get(ctx, "bad"); err == nil {
		t.Error("a refused deploy stored the function")
	}

	// The client's DeployOptions send the same parameters.
	f, _, err = cl.Deploy(ctx, "viaclient", wasm, client.DeployOptions{Routes: []string{"/viaclient"}, AllowedHosts: []string{srv.URL},
		OutboundTimeoutMS: 2500, OutboundMaxResponseBytes: 1 << 20, OutboundMaxRequests: 1})
	if err != nil {
		t.Fatal(err)
	}
	if l := f.Limits; l.OutboundTimeoutMS != 2500 || l.OutboundMaxResponseBytes != 1<<20 || l.OutboundMaxRequests != 1 {
		t.Fatalf("client deploy stored %+v", l)
	}
	if r := call("viaclient"); r.Status != 600+int(abi.ErrBusy) {
		t.Fatalf("client max_requests=1: %d %q", r.Status, r.Body)
	}
}
