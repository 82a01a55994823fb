package node_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

var ctx = context.Background()

// guest builds a native-entry module whose handler body is given in WAT.
// $write, $rhead, $head, $exit are imported; memory has 2 pages.
func guest(t testing.TB, data, body string) []byte {
	return testutil.WAT(t, `(module
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (import "wedge_v1" "response_head" (func $rhead (param i32 i32 i32) (result i32)))
	  (import "wedge_v1" "request_head" (func $head (param i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
	  (import "wedge_v1" "kv_put" (func $kvput (param i32 i32 i32 i32 i32 i32 i64 i64) (result i64)))
	  (memory (export "memory") 2)
	  (global $n (mut i32) (i32.const 0))
	  `+data+`
	  (func $recurse (param i32) (result i32) (call $recurse (i32.add (local.get 0) (i32.const 1))))
	  (func (export "wedge_handle") (param $hl i32) (param $bl i32) (result i32) `+body+`))`)
}

func text(t testing.TB, s string) []byte {
	return guest(t, fmt.Sprintf(`(data (i32.const 0) %q)`, s), fmt.Sprintf(`(drop (call $write (i32.const 0) (i32.const %d))) (i32.const 0)`, len(s)))
}

func deploy(t testing.TB, n *node.Node, name string, wasm []byte, routes ...string) client.Function {
	t.Helper()
	f, _, err := testutil.Client(n).Deploy(ctx, name, wasm, client.DeployOptions{Routes: routes})
	if err != nil {
		t.Fatalf("deploy %s: %v", name, err)
	}
	return f
}

func TestDeployAndServe(t *testing.T) {
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	// Status, headers and body set by the guest: header list "X-Kind" = "wat".
	wasm := guest(t, `(data (i32.const 0) "\01\00\00\00\06\00\00\00X-Kind\03\00\00\00wat") (data (i32.const 64) "created")`,
		`(drop (call $rhead (i32.const 201) (i32.const 0) (i32.const 21)))
		 (drop (call $write (i32.const 64) (i32.const 7))) (i32.const 0)`)
	f, created, err := cl.Deploy(ctx, "maker", wasm, client.DeployOptions{Routes: []string{"/make", "/things/..."}})
	if err != nil || !created || f.Version != 1 || len(f.SHA256) != 64 || len(f.Routes) != 2 {
		t.Fatalf("deploy: %+v created=%v err=%v", f, created, err)
	}
	for _, path := range []string{"/make", "/things", "/things/a/b?c=d"} {
		r := testutil.Get(t, n.PublicURL()+path)
		if r.Status != 201 || r.Body != "created" || r.Header.Get("X-Kind") != "wat" || r.Header.Get("X-Request-Id") == "" {
			t.Fatalf("%s: %+v", path, r)
		}
	}
	for _, path := range []string{"/", "/make/more", "/thingsx", "/other"} {
		if r := testutil.Get(t, n.PublicURL()+path); r.Status != 404 {
			t.Fatalf("%s: %d %q", path, r.Status, r.Body)
		}
	}
	// Update: same name, new module -> 200, version 2, new body.
	f2, created, err := cl.Deploy(ctx, "maker", text(t, "v2"), client.DeployOptions{Routes: []string{"/make"}})
	if err != nil || created || f2.Version != 2 {
		t.Fatalf("update: %+v %v %v", f2, created, err)
	}
	if r := testutil.Get(t, n.PublicURL()+"/make"); r.Status != 200 || r.Body != "v2" {
		t.Fatalf("after update: %+v", r)
	}
	if r := testutil.Get(t, n.PublicURL()+"/things/x"); r.Status != 404 {
		t.Fatalf("dropped route still served: %+v", r)
	}
	fns, err := cl.List(ctx)
	if err != nil || len(fns) != 1 || fns[0].Name != "maker" {
		t.Fatalf("list: %+v %v", fns, err)
	}
	if err := cl.Delete(ctx, "maker"); err != nil {
		t.Fatal(err)
	}
	if r := testutil.Get(t, n.PublicURL()+"/make"); r.Status != 404 {
		t.Fatalf("after delete: %+v", r)
	}
	if err := cl.Delete(ctx, "maker"); !client.IsStatus(err, 404) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestLongestRouteWins(t *testing.T) {
	n := testutil.StartNode(t, "")
	deploy(t, n, "all", text(t, "all"), "/...")
	deploy(t, n, "api", text(t, "api"), "/api/...")
	deploy(t, n, "users", text(t, "users"), "/api/users/...")
	deploy(t, n, "exact", text(t, "exact"), "/api/users/me")
	cases := map[string]string{"/": "all", "/x": "all", "/api": "api", "/api/x": "api", "/api/users": "users",
		"/api/users/7": "users", "/api/users/me": "exact", "/api/users/me/x": "users"}
	for path, want := range cases {
		if r := testutil.Get(t, n.PublicURL()+path); r.Body != want {
			t.Errorf("%s -> %q, want %q", path, r.Body, want)
		}
	}
	_, _, err := testutil.Client(n).Deploy(ctx, "thief", text(t, "x"), client.DeployOptions{Routes: []string{"/api/..."}})
	if !client.IsStatus(err, 409) || !strings.Contains(err.Error(), `"api"`) {
		t.Fatalf("route conflict: %v", err)
	}
}

func TestStatelessness(t *testing.T) {
	n := testutil.StartNode(t, "")
	// Increments a mutable global and returns it as one ASCII digit.
	deploy(t, n, "counter", guest(t, "", `
		(global.set $n (i32.add (global.get $n) (i32.const 1)))
		(i32.store8 (i32.const 0) (i32.add (i32.const 48) (global.get $n)))
		(drop (call $write (i32.const 0) (i32.const 1))) (i32.const 0)`), "/count")
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if r := testutil.Get(t, n.PublicURL()+"/count"); r.Status != 200 || r.Body != "1" {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d responses saw another request's state", bad.Load())
	}
}

func TestHostileGuestsOverHTTP(t *testing.T) {
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	deploy(t, n, "ok", text(t, "fine"), "/ok")
	cases := []struct {
		name, body string
		status     int
		cause      string
	}{
		{"loop", `(loop $l (br $l)) (i32.const 0)`, 504, "time limit"},
		{"grow", `(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable`, 500, "memory limit"},
		{"stack", `(call $recurse (i32.const 0))`, 500, "stack overflow"},
		{"oob", `(call $write (i32.const 100000) (i32.const 200000))`, 500, "pointer out of bounds"},
		{"huge", `(loop $l (br_if $l (i32.gt_s (call $write (i32.const 0) (i32.const 65536)) (i32.const 0)))) (i32.const 0)`, 500, "response"},
		{"exit", `(call $exit (i32.const 42)) (i32.const 0)`, 500, "code 42"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := cl.Deploy(ctx, tc.name, guest(t, "", tc.body), client.DeployOptions{
				Routes: []string{"/" + tc.name}, TimeoutMS: 200, MemoryMB: 8, MaxResponseBytes: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := testutil.Get(t, n.PublicURL()+"/"+tc.name)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %q", r.Status, tc.status, r.Body)
			}
			testutil.Contains(t, r.Body, fmt.Sprintf("%q", tc.name), tc.cause)
			if strings.Contains(r.Body, "backtrace") || strings.Contains(r.Body, "/work") {
				t.Fatalf("body leaks internals: %q", r.Body)
			}
			if tc.status == 504 && time.Since(start) > 3*time.Second {
				t.Fatalf("504 took %v", time.Since(start))
			}
			if r := testutil.Get(t, n.PublicURL()+"/ok"); r.Status != 200 || r.Body != "fine" {
				t.Fatalf("another function after %s: %+v", tc.name, r)
			}
		})
	}
	// The failures are in the function's logs, with the cause.
	var lines []string
	if err := cl.Logs(ctx, "loop", 10, false, func(e client.LogEntry) { lines = append(lines, e.Message) }); err != nil {
		t.Fatal(err)
	}
	testutil.Contains(t, strings.Join(lines, "\n"), "time limit")
}

func TestDeployRejectsBadInput(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) {})
	cl := testutil.Client(n)
	good := text(t, "x")
	cases := []struct {
		name   string
		wasm   []byte
		status int
		text   string
	}{
		{"garbage", []byte("\x00asm\x01\x00\x00\x00garbage"), 400, "invalid module"},
		{"text", []byte("hello world"), 400, "invalid module"},
		{"truncated", good[:len(good)/2], 400, "invalid module"},
		{"unknown-imports", testutil.WAT(t, `(module (import "env" "sneaky" (func)) (import "wasi_snapshot_preview1" "sock_open" (func))
			(memory (export "memory") 1) (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`), 400, "env.sneaky"},
		{"no-entry", testutil.WAT(t, `(module (memory (export "memory") 1))`), 400, "no entry point"},
	}
	for _, tc := range cases {
		_, _, err := cl.Deploy(ctx, tc.name, tc.wasm, client.DeployOptions{Routes: []string{"/" + tc.name}})
		if !client.IsStatus(err, tc.status) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, want %d %q", tc.name, err, tc.status, tc.text)
		}
	}
	// The unknown-imports error names each import.
	_, _, err := cl.Deploy(ctx, "ui", cases[3].wasm, client.DeployOptions{})
	testutil.Contains(t, err.Error(), "env.sneaky", "wasi_snapshot_preview1.sock_open")
	// Empty body.
	r := testutil.Do(t, "PUT", n.AdminURL()+"/v1/functions/empty", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	if r.Status != 400 || !strings.Contains(r.Body, "empty") {
		t.Errorf("empty: %+v", r)
	}
	// Bad names and routes.
	if _, _, err := cl.Deploy(ctx, "Bad Name", good, client.DeployOptions{}); !client.IsStatus(err, 400) {
		t.Errorf("bad name: %v", err)
	}
	if _, _, err := cl.Deploy(ctx, "badroute", good, client.DeployOptions{Routes: []string{"nope"}}); !client.IsStatus(err, 400) {
		t.Errorf("bad route: %v", err)
	}
	// No token / wrong token: 401 and nothing stored.
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": testutil.Token}} {
		r := testutil.Do(t, "PUT", n.AdminURL()+"/v1/functions/sneak?route=/sneak", bytes.NewReader(good), hdr)
		if r.Status != 401 {
			t.Errorf("auth %v: %d", hdr, r.Status)
		}
	}
	if r := testutil.Do(t, "GET", n.AdminURL()+"/v1/functions", nil, nil); r.Status != 401 {
		t.Errorf("list without token: %d", r.Status)
	}
	fns, _ := cl.List(ctx)
	if len(fns) != 0 {
		t.Fatalf("something was stored: %+v", fns)
	}
	if r := testutil.Get(t, n.PublicURL()+"/sneak"); r.Status != 404 {
		t.Fatalf("sneak served: %d", r.Status)
	}
}

func TestBodyLimits(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) { c.MaxBodyBytes = 1 << 20 })
	deploy(t, n, "echo", text(t, "ok"), "/echo")
	r := testutil.Oversized(t, n.Gateway.PublicAddr(), "POST", "/echo", 2<<20, nil)
	if r.Status != 413 || !strings.Contains(r.Body, "too large") {
		t.Fatalf("oversized body: %d %q", r.Status, r.Body)
	}
	if r := testutil.Do(t, "POST", n.PublicURL()+"/echo", bytes.NewReader(make([]byte, 1<<19)), nil); r.Status != 200 {
		t.Fatalf("body under the limit: %d", r.Status)
	}
	r = testutil.Oversized(t, n.Gateway.AdminAddr(), "PUT", "/v1/functions/big?route=/big", 70<<20, map[string]string{"Authorization": "Bearer " + testutil.Token})
	if r.Status != 413 || !strings.Contains(r.Body, "too large") {
		t.Fatalf("oversized module: %d %q", r.Status, r.Body)
	}
}

func TestRestartServesWithoutRecompiling(t *testing.T) {
	dir := t.TempDir()
	own := func(c *node.Config) { c.ArtifactDir = "" } // count this node's own compilations
	n := testutil.StartNode(t, dir, own)
	deploy(t, n, "hello", text(t, "persisted"), "/hello")
	deploy(t, n, "cgi", testutil.BuildGoWasm(t, "examples/go-cgi", false), "/cgi/...")
	n.Close()

	n2 := testutil.StartNode(t, dir, own)
	if got := n2.Engine.Stats().Compiles; got != 0 {
		t.Fatalf("recompiled %d modules on restart", got)
	}
	if r := testutil.Get(t, n2.PublicURL()+"/hello"); r.Status != 200 || r.Body != "persisted" {
		t.Fatalf("after restart: %+v", r)
	}
	if r := testutil.Get(t, n2.PublicURL()+"/cgi/x"); r.Status != 200 || !strings.Contains(r.Body, "plain Go program") {
		t.Fatalf("cgi after restart: %+v", r)
	}
	f, err := testutil.Client(n2).Get(ctx, "hello")
	if err != nil || !f.FromCache {
		t.Fatalf("not loaded from cache: %+v %v", f, err)
	}
}

func TestCGIEntry(t *testing.T) {
	n := testutil.StartNode(t, "")
	deploy(t, n, "cgi", testutil.BuildGoWasm(t, "examples/go-cgi", false), "/cgi/...")
	r := testutil.Do(t, "POST", n.PublicURL()+"/cgi/path/here?a=1&b=2", strings.NewReader("abc"), map[string]string{"X-Custom": "yes"})
	if r.Status != 200 || r.Header.Get("X-Served-By") != "go-cgi" {
		t.Fatalf("%+v", r)
	}
	testutil.Contains(t, r.Body, "method=POST path=/cgi/path/here query=a=1&b=2",
		"body_bytes=3 body_sha256=ba7816bf", "HTTP_X_CUSTOM=yes")
	if r := testutil.Get(t, n.PublicURL()+"/cgi/missing"); r.Status != 404 || r.Body != "nothing here\n" {
		t.Fatalf("cgi status: %+v", r)
	}
	if r := testutil.Get(t, n.PublicURL()+"/cgi/fail"); r.Status != 500 || !strings.Contains(r.Body, "code 3") {
		t.Fatalf("cgi exit: %+v", r)
	}
	var lines []string
	testutil.Client(n).Logs(ctx, "cgi", 0, false, func(e client.LogEntry) { lines = append(lines, e.Stream+" "+e.RequestID+" "+e.Message) })
	testutil.Contains(t, strings.Join(lines, "\n"), "stderr", "go-cgi: POST /cgi/path/here (3 bytes)", "failing on purpose")
}

func TestRedeployUnderLoadLosesNothing(t *testing.T) {
	n := testutil.StartNode(t, "")
	v1, v2 := text(t, "one"), text(t, "two")
	deploy(t, n, "flip", v1, "/flip")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var firstFailure string
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 10 * time.Second}
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := hc.Get(n.PublicURL() + "/flip")
				body := ""
				if err == nil {
					var b bytes.Buffer
					b.ReadFrom(resp.Body)
					resp.Body.Close()
					body = b.String()
				}
				if err != nil || resp.StatusCode != 200 || (body != "one" && body != "two") {
					failed.Add(1)
					mu.Lock()
					if firstFailure == "" {
						firstFailure = fmt.Sprint(err, body)
					}
					mu.Unlock()
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for i := 0; i < 20; i++ {
		w := v1
		if i%2 == 0 {
			w = v2
		}
		deploy(t, n, "flip", w, "/flip")
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed during redeploys (first: %s)", failed.Load(), firstFailure)
	}
	if ok.Load() == 0 {
		t.Fatal("no requests ran")
	}
	if live := n.Engine.Stats().LiveModules; live != 1 {
		t.Fatalf("%d modules alive after redeploys, want 1", live)
	}
}

func TestLogsFollow(t *testing.T) {
	n := testutil.StartNode(t, "")
	deploy(t, n, "cgi", testutil.BuildGoWasm(t, "examples/go-cgi", false), "/cgi/...")
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got := make(chan string, 16)
	go testutil.Client(n).Logs(fctx, "cgi", 0, true, func(e client.LogEntry) { got <- e.Message })
	// The follower attaches asynchronously: request until a line arrives.
	for {
		testutil.Get(t, n.PublicURL()+"/cgi/followed")
		select {
		case m := <-got:
			testutil.Contains(t, m, "/cgi/followed")
			return
		case <-time.After(50 * time.Millisecond):
		case <-fctx.Done():
			t.Fatal("no line followed")
		}
	}
}

func TestMetricsAndHealth(t *testing.T) {
	n := testutil.StartNode(t, "")
	deploy(t, n, "hello", text(t, "hi"), "/hello")
	testutil.Get(t, n.PublicURL()+"/hello")
	if r := testutil.Get(t, n.AdminURL()+"/healthz"); r.Status != 200 || !strings.Contains(r.Body, `"ok"`) {
		t.Fatalf("healthz: %+v", r)
	}
	r := testutil.Do(t, "GET", n.AdminURL()+"/metrics", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	testutil.Contains(t, r.Body, `wedge_requests_total{function="hello",code="2xx"} 1`, "wedge_functions 1",
		"# TYPE wedge_request_duration_seconds histogram", "wedge_functions 1")
}

func registryRequest(name string, wasm []byte, config map[string]string, triggers []model.Trigger) registry.DeployRequest {
	return registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: name, Config: config, Triggers: triggers}, Wasm: wasm}
}
