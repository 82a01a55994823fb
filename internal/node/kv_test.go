package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/testutil"
)

var kvPutNone = kv.PutOptions{}

func TestKVAdminAPI(t *testing.T) {
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	v1, err := cl.KVPut(ctx, "app", "greeting", []byte("hello"), client.KVPutOptions{})
	if err != nil || v1 == 0 {
		t.Fatal(v1, err)
	}
	val, ver, err := cl.KVGet(ctx, "app", "greeting")
	if err != nil || string(val) != "hello" || ver != v1 {
		t.Fatalf("%q %d %v", val, ver, err)
	}
	// CAS with a stale version: 409 and nothing changes.
	stale := v1 - 1
	if _, err := cl.KVPut(ctx, "app", "greeting", []byte("lost"), client.KVPutOptions{IfVersion: &stale}); !client.IsStatus(err, 409) {
		t.Fatalf("stale CAS: %v", err)
	}
	if val, _, _ := cl.KVGet(ctx, "app", "greeting"); string(val) != "hello" {
		t.Fatalf("stale CAS changed the value to %q", val)
	}
	v2, err := cl.KVPut(ctx, "app", "greeting", []byte("hi"), client.KVPutOptions{IfVersion: &v1})
	if err != nil || v2 <= v1 {
		t.Fatalf("CAS: %d %v", v2, err)
	}
	// Keys with slashes and TTL.
	if _, err := cl.KVPut(ctx, "app", "users/7/name", []byte("ada"), client.KVPutOptions{TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	keys, next, err := cl.KVList(ctx, "app", "users/", "", 10)
	if err != nil || len(keys) != 1 || keys[0].Key != "users/7/name" || keys[0].Expires.IsZero() || next != "" {
		t.Fatalf("list: %+v %q %v", keys, next, err)
	}
	if n, err := cl.KVIncrement(ctx, "app", "hits", 5); err != nil || n != 5 {
		t.Fatalf("incr: %d %v", n, err)
	}
	nss, err := cl.KVNamespaces(ctx)
	if err != nil || len(nss) != 1 || nss[0].Name != "app" || nss[0].Keys != 3 {
		t.Fatalf("namespaces: %+v %v", nss, err)
	}
	if err := cl.KVDelete(ctx, "app", "greeting", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cl.KVGet(ctx, "app", "greeting"); !client.IsStatus(err, 404) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestKVAdminBadInput(t *testing.T) {
	n := testutil.StartNode(t, "")
	auth := map[string]string{"Authorization": "Bearer " + testutil.Token}
	cases := []struct {
		method, path string
		body         []byte
	}{
		{"PUT", "/v1/kv/app/", []byte("x")},                            // empty key
		{"PUT", "/v1/kv/app/" + strings.Repeat("k", 513), []byte("x")}, // key too large
		{"PUT", "/v1/kv/app/big", make([]byte, 1<<20+1)},               // value too large
		{"PUT", "/v1/kv/%FF%FE/key", []byte("x")},                      // invalid UTF-8 namespace
		{"PUT", "/v1/kv/bad%20ns/key", []byte("x")},                    // invalid namespace characters
		{"GET", "/v1/kv/app?cursor=not-a-cursor", nil},                 // malformed cursor
		{"PUT", "/v1/kv/app/k?ttl=-5", []byte("x")},                    // bad ttl
	}
	for _, c := range cases {
		r := testutil.Do(t, c.method, n.AdminURL()+c.path, bytes.NewReader(c.body), auth)
		if r.Status != 400 {
			t.Errorf("%s %s: %d %s", c.method, c.path[:min(len(c.path), 40)], r.Status, r.Body)
			continue
		}
		var e map[string]string
		if json.Unmarshal([]byte(r.Body), &e) != nil || e["error"] == "" {
			t.Errorf("%s: no error message: %s", c.path, r.Body)
		}
	}
	nss, _ := testutil.Client(n).KVNamespaces(ctx)
	for _, ns := range nss {
		if ns.Keys != 0 {
			t.Fatalf("something was stored: %+v", nss)
		}
	}
	if r := testutil.Do(t, "GET", n.AdminURL()+"/v1/kv", nil, nil); r.Status != 401 {
		t.Fatalf("kv without token: %d", r.Status)
	}
}

func TestKVListPaging(t *testing.T) {
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	// Concurrent writers share commits (group commit), so this is fast.
	var wg sync.WaitGroup
	errs := make(chan error, 2500)
	for w := 0; w < 50; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 2500; i += 50 {
				if _, err := n.KV.Put(context.Background(), "many", fmt.Sprintf("k%05d", i), []byte("v"), kvPutNone); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen, cursor := 0, ""
	for pages := 0; ; pages++ {
		keys, next, err := cl.KVList(ctx, "many", "", cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if want := fmt.Sprintf("k%05d", seen); k.Key != want {
				t.Fatalf("key %q, want %q", k.Key, want)
			}
			seen++
		}
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("too many pages")
		}
		cursor = next
	}
	if seen != 2500 {
		t.Fatalf("saw %d keys", seen)
	}
}

// kvGuest returns a guest that runs one KV call on namespace ns and answers
// with the call's result code as text.
func kvGuest(t testing.TB, ns string) []byte {
	return guest(t, fmt.Sprintf(`(data (i32.const 0) %q) (data (i32.const 64) "key") (data (i32.const 128) "value")`, ns), fmt.Sprintf(`
		(local $r i64)
		(local.set $r (call $kvput (i32.const 0) (i32.const %d) (i32.const 64) (i32.const 3) (i32.const 128) (i32.const 5) (i64.const 0) (i64.const -1)))
		;; write the result as a signed decimal of one digit plus sign
		(if (i64.lt_s (local.get $r) (i64.const 0))
		  (then (i32.store8 (i32.const 256) (i32.const 45)) (i32.store8 (i32.const 257) (i32.add (i32.const 48) (i32.wrap_i64 (i64.sub (i64.const 0) (local.get $r))))))
		  (else (i32.store8 (i32.const 256) (i32.const 43)) (i32.store8 (i32.const 257) (i32.const 49))))
		(drop (call $write (i32.const 256) (i32.const 2)))
		(i32.const 0)`, len(ns)))
}

func TestGuestKVNamespaceIsolation(t *testing.T) {
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	deployOpts := func(name, ns string, grants ...string) {
		_, _, err := cl.Deploy(ctx, name, kvGuest(t, ns), client.DeployOptions{Routes: []string{"/" + name}, KVGrants: grants})
		if err != nil {
			t.Fatal(err)
		}
	}
	deployOpts("own", "")
	deployOpts("sneaky", "secrets")
	deployOpts("granted", "shared", "shared")
	for path, want := range map[string]string{"/own": "+1", "/sneaky": "-3", "/granted": "+1"} {
		r := testutil.Get(t, n.PublicURL()+path)
		if r.Status != 200 || r.Body != want {
			t.Errorf("%s: %d %q, want %q", path, r.Status, r.Body, want)
		}
	}
	if v, _, err := cl.KVGet(ctx, "own", "key"); err != nil || string(v) != "value" {
		t.Fatalf("own namespace: %q %v", v, err)
	}
	if _, _, err := cl.KVGet(ctx, "secrets", "key"); !client.IsStatus(err, 404) {
		t.Fatalf("the denied write happened: %v", err)
	}
	if v, _, err := cl.KVGet(ctx, "shared", "key"); err != nil || string(v) != "value" {
		t.Fatalf("granted namespace: %q %v", v, err)
	}
}

func TestGoSDKKVAPI(t *testing.T) {
	n := testutil.StartNode(t, "")
	deploy(t, n, "go-api", testutil.BuildGoWasm(t, "examples/go-api", true), "/api/...")
	r := testutil.Do(t, "POST", n.PublicURL()+"/api/notes", strings.NewReader(`{"title":"first","body":"hello"}`), map[string]string{"Content-Type": "application/json"})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var note map[string]any
	json.Unmarshal([]byte(r.Body), &note)
	id := fmt.Sprint(note["id"])
	if r := testutil.Get(t, n.PublicURL()+"/api/notes/"+id); r.Status != 200 || !strings.Contains(r.Body, "first") {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	testutil.Do(t, "POST", n.PublicURL()+"/api/notes", strings.NewReader(`{"title":"second","body":"x"}`), nil)
	if r := testutil.Get(t, n.PublicURL()+"/api/notes"); r.Status != 200 || !strings.Contains(r.Body, "second") || !strings.Contains(r.Body, "first") {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	if r := testutil.Do(t, "DELETE", n.PublicURL()+"/api/notes/"+id, nil, nil); r.Status/100 != 2 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := testutil.Get(t, n.PublicURL()+"/api/notes/"+id); r.Status != 404 {
		t.Fatalf("after delete: %d %s", r.Status, r.Body)
	}
	// The data is in the function's own namespace, visible to operators.
	keys, _, err := testutil.Client(n).KVList(ctx, "go-api", "", "", 100)
	if err != nil || len(keys) == 0 {
		t.Fatalf("namespace go-api: %+v %v", keys, err)
	}
}
