package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
)

const helloWAT = `(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (import "wedge_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from the client test")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (drop (call $log (i32.const 1) (i32.const 0) (i32.const 26)))
    (drop (call $write (i32.const 0) (i32.const 26)))
    (i32.const 0)))`

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// TestFunctionLifecycle drives deploy, get, list, logs and delete through
// a real node and checks what the client decodes.
func TestFunctionLifecycle(t *testing.T) {
	n := testutil.StartNode(t, "")
	c := testutil.Client(n)
	wasm := testutil.WAT(t, helloWAT)

	f, created, err := c.Deploy(ctx(t), "hello", wasm, client.DeployOptions{
		Routes: []string{"/hello"}, TimeoutMS: 1500, MemoryMB: 8, Config: map[string]string{"greeting": "hi"},
	})
	if err != nil || !created {
		t.Fatalf("deploy: created=%v err=%v", created, err)
	}
	if f.Name != "hello" || f.Version != 1 || len(f.SHA256) != 64 || f.Size != len(wasm) {
		t.Fatalf("deploy answer: %+v", f)
	}
	if len(f.Routes) != 1 || f.Routes[0] != "/hello" || f.Limits.TimeoutMS != 1500 || f.Limits.MemoryBytes != 8<<20 {
		t.Fatalf("deploy answer lost options: routes %v limits %+v", f.Routes, f.Limits)
	}
	if f.Config["greeting"] != "hi" {
		t.Fatalf("config not echoed: %v", f.Config)
	}

	f2, created, err := c.Deploy(ctx(t), "hello", wasm, client.DeployOptions{Routes: []string{"/hello"}})
	if err != nil || created || f2.Version != 2 {
		t.Fatalf("redeploy: version %d created=%v err=%v", f2.Version, created, err)
	}

	got, err := c.Get(ctx(t), "hello")
	if err != nil || got.Version != 2 || got.SHA256 != f.SHA256 {
		t.Fatalf("get: %+v %v", got, err)
	}
	list, err := c.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range list {
		found = found || g.Name == "hello"
	}
	if !found {
		t.Fatalf("list lacks hello: %+v", list)
	}

	if r := testutil.Get(t, n.PublicURL()+"/hello"); r.Status != 200 || r.Body != "hello from the client test" {
		t.Fatalf("calling the function: %d %q", r.Status, r.Body)
	}
	var lines []client.LogEntry
	testutil.Eventually(t, 10*time.Second, "the function's log line", func() bool {
		lines = lines[:0]
		err := c.Logs(ctx(t), "hello", 10, false, func(e client.LogEntry) { lines = append(lines, e) })
		return err == nil && len(lines) > 0
	})
	if lines[0].Function != "hello" || !strings.Contains(lines[0].Message, "hello from the client test") || lines[0].RequestID == "" {
		t.Fatalf("log entry: %+v", lines[0])
	}

	if err := c.Delete(ctx(t), "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx(t), "hello"); !client.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("get after delete: want 404, got %v", err)
	}
	if err := c.Delete(ctx(t), "hello"); !client.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("second delete: want 404, got %v", err)
	}
}

func TestDeployErrorsAreAPIErrors(t *testing.T) {
	n := testutil.StartNode(t, "")
	c := testutil.Client(n)
	_, _, err := c.Deploy(ctx(t), "bad", []byte("not wasm"), client.DeployOptions{Routes: []string{"/bad"}})
	var ae *client.APIError
	if !client.IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("invalid module: want a 400 APIError, got %v", err)
	}
	ae = err.(*client.APIError)
	if ae.Message == "" || ae.Code == "" {
		t.Fatalf("APIError lacks the node's message or code: %+v", ae)
	}

	wrong := client.New(n.AdminURL(), "not-the-token")
	if _, err := wrong.List(ctx(t)); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("wrong token: want 401, got %v", err)
	}
	if err := wrong.Logs(ctx(t), "x", 1, false, func(client.LogEntry) {}); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("logs with a wrong token: want 401, got %v", err)
	}
}

func TestKV(t *testing.T) {
	n := testutil.StartNode(t, "")
	c := testutil.Client(n)

	v1, err := c.KVPut(ctx(t), "ns", "a/1", []byte("one"), client.KVPutOptions{})
	if err != nil || v1 == 0 {
		t.Fatalf("put: v%d %v", v1, err)
	}
	val, ver, err := c.KVGet(ctx(t), "ns", "a/1")
	if err != nil || string(val) != "one" || ver != v1 {
		t.Fatalf("get: %q v%d %v (want v%d)", val, ver, err, v1)
	}

	// Compare-and-swap: a stale version is a 409 and changes nothing.
	stale := v1 + 100
	if _, err := c.KVPut(ctx(t), "ns", "a/1", []byte("lost"), client.KVPutOptions{IfVersion: &stale}); !client.IsStatus(err, http.StatusConflict) {
		t.Fatalf("stale CAS: want 409, got %v", err)
	}
	v2, err := c.KVPut(ctx(t), "ns", "a/1", []byte("two"), client.KVPutOptions{IfVersion: &v1})
	if err != nil || v2 <= v1 {
		t.Fatalf("CAS at the current version: v%d %v", v2, err)
	}
	zero := uint64(0)
	if _, err := c.KVPut(ctx(t), "ns", "a/1", []byte("x"), client.KVPutOptions{IfVersion: &zero}); !client.IsStatus(err, http.StatusConflict) {
		t.Fatalf("put-if-absent on an existing key: want 409, got %v", err)
	}

	for i, want := range []int64{5, 3} {
		got, err := c.KVIncrement(ctx(t), "ns", "counter", []int64{5, -2}[i])
		if err != nil || got != want {
			t.Fatalf("increment %d: %d %v (want %d)", i, got, err, want)
		}
	}

	for _, k := range []string{"a/2", "a/3", "b/1"} {
		if _, err := c.KVPut(ctx(t), "ns", k, []byte(k), client.KVPutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	cursor := ""
	for page := 0; page < 10; page++ {
		ks, next, err := c.KVList(ctx(t), "ns", "a/", cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			keys = append(keys, k.Key)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(keys, ",") != "a/1,a/2,a/3" {
		t.Fatalf("paged list under a/: %v", keys)
	}

	nss, err := c.KVNamespaces(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ns := range nss {
		if ns.Name == "ns" {
			found = ns.Keys >= 4
		}
	}
	if !found {
		t.Fatalf("namespaces: %+v", nss)
	}

	if err := c.KVDelete(ctx(t), "ns", "a/1", &v1); !client.IsStatus(err, http.StatusConflict) {
		t.Fatalf("delete at a stale version: want 409, got %v", err)
	}
	if err := c.KVDelete(ctx(t), "ns", "a/1", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.KVGet(ctx(t), "ns", "a/1"); !client.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("get after delete: want 404, got %v", err)
	}

	if _, err := c.KVPut(ctx(t), "ns", "ttl", []byte("x"), client.KVPutOptions{TTL: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the TTL key to expire", func() bool {
		_, _, err := c.KVGet(ctx(t), "ns", "ttl")
		return client.IsStatus(err, http.StatusNotFound)
	})
}

// TestAnswersThatAreNotJSON checks the client's handling of answers a
// proxy in front of a node might give.
func TestAnswersThatAreNotJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/functions":
			w.Write([]byte("<html>not json</html>"))
		default:
			http.Error(w, "bad gateway from a proxy", http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	c := client.New(strings.TrimPrefix(srv.URL, "http://"), "t") // no scheme: New adds http://
	if _, err := c.List(ctx(t)); err == nil || !strings.Contains(err.Error(), "decoding answer") {
		t.Fatalf("a 200 that is not JSON: want a decoding error, got %v", err)
	}
	_, err := c.Get(ctx(t), "x")
	if !client.IsStatus(err, http.StatusBadGateway) || !strings.Contains(err.Error(), "bad gateway from a proxy") {
		t.Fatalf("a plain-text error answer: want a 502 APIError carrying the text, got %v", err)
	}
}
