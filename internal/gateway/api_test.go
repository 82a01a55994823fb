package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/testutil"
)

// These tests drive the gateway's two servers through real sockets on
// 127.0.0.1, on a node assembled by testutil: the admin API's contract
// (statuses, JSON shapes, authentication) and the public routing rules.

// pathWAT answers with its own name and the path it saw.
func pathWAT(name string) string {
	return fmt.Sprintf(`(module
  (import "wedge_v1" "request_head" (func $head (param i32 i32) (result i32)))
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "%s")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (drop (call $write (i32.const 0) (i32.const %d)))
    (i32.const 0)))`, name, len(name))
}

func admin(t *testing.T, method, url string, body []byte, token string) testutil.Response {
	t.Helper()
	hdr := map[string]string{}
	if token != "" {
		hdr["Authorization"] = "Bearer " + token
	}
	var r *bytes.Reader
	if body != nil {
		r = bytes.NewReader(body)
	} else {
		r = bytes.NewReader(nil)
	}
	return testutil.Do(t, method, url, r, hdr)
}

func TestAdminDeployContract(t *testing.T) {
	n := testutil.StartNode(t, "")
	base := n.AdminURL()
	wasm := testutil.WAT(t, pathWAT("a"))

	r := admin(t, "PUT", base+"/v1/functions/a?route=/a&route=/a2/...", wasm, testutil.Token)
	if r.Status != http.StatusCreated {
		t.Fatalf("first deploy: %d %s", r.Status, r.Body)
	}
	var f map[string]any
	if err := json.Unmarshal([]byte(r.Body), &f); err != nil {
		t.Fatalf("deploy answer is not JSON: %v", err)
	}
	for _, k := range []string{"name", "version", "sha256", "routes"} {
		if _, ok := f[k]; !ok {
			t.Errorf("deploy answer lacks %q: %s", k, r.Body)
		}
	}
	if r := admin(t, "PUT", base+"/v1/functions/a?route=/a", wasm, testutil.Token); r.Status != http.StatusOK {
		t.Fatalf("update: want 200, got %d %s", r.Status, r.Body)
	}

	r = admin(t, "PUT", base+"/v1/functions/bad?route=/bad", []byte("\x00asm garbage"), testutil.Token)
	if r.Status != 400 || !strings.Contains(r.Body, "error") {
		t.Fatalf("invalid module: %d %s", r.Status, r.Body)
	}
	unknown := testutil.WAT(t, `(module (import "wedge_v1" "no_such_call" (func)) (import "env" "mystery" (func))
	  (memory (export "memory") 1) (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`)
	r = admin(t, "PUT", base+"/v1/functions/bad?route=/bad", unknown, testutil.Token)
	if r.Status != 400 || !strings.Contains(r.Body, "no_such_call") || !strings.Contains(r.Body, "mystery") {
		t.Fatalf("unknown imports: want 400 naming both, got %d %s", r.Status, r.Body)
	}
	r = admin(t, "PUT", base+"/v1/functions/other?route=/a", testutil.WAT(t, pathWAT("other")), testutil.Token)
	if r.Status != http.StatusConflict {
		t.Fatalf("a route held by another function: want 409, got %d %s", r.Status, r.Body)
	}
	if r := admin(t, "GET", base+"/v1/functions/bad", nil, testutil.Token); r.Status != 404 {
		t.Fatalf("refused deploys left a function: %d %s", r.Status, r.Body)
	}

	r = admin(t, "GET", base+"/v1/functions", nil, testutil.Token)
	if r.Status != 200 || !strings.Contains(r.Body, `"name": "a"`) {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	if r := admin(t, "POST", base+"/v1/functions", nil, testutil.Token); r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") == "" {
		t.Fatalf("POST on the list: want 405 with Allow, got %d", r.Status)
	}
	if r := admin(t, "GET", base+"/v1/nothing-here", nil, testutil.Token); r.Status != 404 {
		t.Fatalf("unknown endpoint: %d", r.Status)
	}
	r = admin(t, "GET", base+"/metrics", nil, testutil.Token)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Type"), "text/plain") || !strings.Contains(r.Body, "# TYPE ") {
		t.Fatalf("metrics: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	// The wasmpool fast path and InstancePre are in use (a fallback would
	// be 3-4x slower with nothing else to show it).
	for _, line := range []string{"\nwedge_wasmpool_fast_path 1\n", "\nwedge_modules_without_instancepre_total 0\n"} {
		if !strings.Contains(r.Body, line) {
			t.Fatalf("metrics lack %q", line)
		}
	}
	if r := testutil.Get(t, base+"/healthz"); r.Status != 200 {
		t.Fatalf("healthz needs no token: %d", r.Status)
	}
	if r := admin(t, "DELETE", base+"/v1/functions/a", nil, testutil.Token); r.Status != 200 && r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := testutil.Get(t, n.PublicURL()+"/a"); r.Status != 404 {
		t.Fatalf("a deleted function still answers: %d", r.Status)
	}
}

// TestAdminRefusesWithoutToken: every admin route answers 401 to a
// missing or wrong token, and nothing changes.
func TestAdminRefusesWithoutToken(t *testing.T) {
	n := testutil.StartNode(t, "")
	base := n.AdminURL()
	wasm := testutil.WAT(t, pathWAT("a"))
	routes := []struct{ method, path string }{
		{"GET", "/v1/functions"}, {"PUT", "/v1/functions/x?route=/x"}, {"GET", "/v1/functions/x"},
		{"DELETE", "/v1/functions/x"}, {"GET", "/v1/functions/x/logs"}, {"GET", "/v1/kv"},
		{"PUT", "/v1/kv/ns/k"}, {"GET", "/v1/kv/ns/k"}, {"DELETE", "/v1/kv/ns/k"}, {"GET", "/v1/kv/ns?prefix=a"},
		{"GET", "/v1/cluster/members"}, {"GET", "/metrics"}, {"GET", "/v1/scheduler"}, {"PUT", "/v1/apps/app"},
	}
	for _, token := range []string{"", "wrong-token"} {
		for _, rt := range routes {
			r := admin(t, rt.method, base+rt.path, wasm, token)
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: %d, want 401", rt.method, rt.path, token, r.Status)
			}
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", rt.method, rt.path)
			}
		}
	}
	if r := admin(t, "GET", base+"/v1/functions/x", nil, testutil.Token); r.Status != 404 {
		t.Fatalf("an unauthenticated deploy created x: %d", r.Status)
	}
	if r := admin(t, "GET", base+"/v1/kv/ns/k", nil, testutil.Token); r.Status != 404 {
		t.Fatalf("an unauthenticated put wrote a key: %d", r.Status)
	}
}

// TestPublicRouting: exact routes, "/..." prefixes on '/' boundaries,
// the longest match wins, the function sees the original path, no match
// is 404.
func TestPublicRouting(t *testing.T) {
	n := testutil.StartNode(t, "")
	c := admin
	for name, routes := range map[string]string{
		"root":  "route=/...",
		"api":   "route=/api/...",
		"users": "route=/api/users/...",
		"exact": "route=/exact",
	} {
		r := c(t, "PUT", n.AdminURL()+"/v1/functions/"+name+"?"+routes, testutil.WAT(t, pathWAT(name)), testutil.Token)
		if r.Status != 201 {
			t.Fatalf("deploy %s: %d %s", name, r.Status, r.Body)
		}
	}
	cases := map[string]string{
		"/":                "root",
		"/other":           "root",
		"/api":             "api",
		"/api/":            "api",
		"/api/x":           "api",
		"/apix":            "root", // not on a '/' boundary
		"/api/users":       "users",
		"/api/users/42/me": "users",
		"/exact":           "exact",
		"/exact/below":     "root", // an exact route does not cover its subtree
	}
	for path, want := range cases {
		r := testutil.Get(t, n.PublicURL()+path)
		if r.Status != 200 || r.Body != want {
			t.Errorf("GET %s: %d %q, want %q", path, r.Status, r.Body, want)
		}
	}
	if r := admin(t, "DELETE", n.AdminURL()+"/v1/functions/root", nil, testutil.Token); r.Status >= 300 {
		t.Fatal(r.Body)
	}
	if r := testutil.Get(t, n.PublicURL()+"/other"); r.Status != 404 {
		t.Fatalf("no route matches: want 404, got %d %q", r.Status, r.Body)
	}
}
