package gateway_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/gateway"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// A panic in a handler of either server answers 500 with a request id
// (header and body), is logged with its stack, and the node goes on
// serving. Before, fasthttp let the panic end the process.
func TestHandlerPanicBecomes500(t *testing.T) {
	var log testutil.SyncBuffer
	n := testutil.StartNode(t, "", func(c *node.Config) { c.Log = slog.New(slog.NewTextHandler(&log, nil)) })
	hello := testutil.WAT(t, `(module
	  (import "wedge_v1" "response_write" (func $w (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (data (i32.const 0) "hello")
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (drop (call $w (i32.const 0) (i32.const 5))) (i32.const 0)))`)
	if _, _, err := testutil.Client(n).Deploy(t.Context(), "hello", hello, client.DeployOptions{Routes: []string{"/hello"}}); err != nil {
		t.Fatal(err)
	}
	// Injected panics: the public handler calls the installing hook on
	// every request; the admin handler dispatches to extra routes.
	n.Gateway.SetInstalling(func(_, path []byte) (string, string, string, string, bool) {
		if string(path) == "/boom" {
			panic("injected public panic")
		}
		return "", "", "", "", false
	})
	n.Gateway.AddAdminRoutes(gateway.AdminRoute{Prefix: "/v1/boom", Handler: func(*fasthttp.RequestCtx) {
		panic("injected admin panic")
	}})
	auth := map[string]string{"Authorization": "Bearer " + testutil.Token}

	ids := map[string]bool{}
	for i := 0; i < 20; i++ {
		r := testutil.Get(t, n.PublicURL()+"/boom")
		id := r.Header.Get("X-Request-Id")
		if r.Status != 500 || id == "" || !strings.Contains(r.Body, "request id: "+id) || strings.Contains(r.Body, "injected") {
			t.Fatalf("public panic answered %d id=%q %q", r.Status, id, r.Body)
		}
		ids[id] = true
		if r := testutil.Get(t, n.PublicURL()+"/hello"); r.Status != 200 || r.Body != "hello" {
			t.Fatalf("after a public panic: %d %q", r.Status, r.Body)
		}

		r = testutil.Do(t, "GET", n.AdminURL()+"/v1/boom", nil, auth)
		var body struct {
			Error     string `json:"error"`
			RequestID string `json:"request_id"`
		}
		_ = json.Unmarshal([]byte(r.Body), &body)
		if r.Status != 500 || body.RequestID == "" || r.Header.Get("X-Request-Id") != body.RequestID ||
			!strings.Contains(body.Error, body.RequestID) || strings.Contains(r.Body, "injected") {
			t.Fatalf("admin panic answered %d %q", r.Status, r.Body)
		}
		ids[body.RequestID] = true
		if r := testutil.Do(t, "GET", n.AdminURL()+"/v1/functions/hello", nil, auth); r.Status != 200 {
			t.Fatalf("after an admin panic: %d %q", r.Status, r.Body)
		}
	}
	if len(ids) != 40 {
		t.Fatalf("%d distinct request ids for 40 panics", len(ids))
	}
	out := log.String()
	testutil.Contains(t, out, "handler panicked", "server=public", "server=admin",
		"injected public panic", "injected admin panic", "recover_test.go")
	for id := range ids {
		if !strings.Contains(out, "request_id="+id) {
			t.Fatalf("request id %s not in the node log", id)
		}
	}
	m := testutil.Do(t, "GET", n.AdminURL()+"/metrics", nil, auth)
	testutil.Contains(t, m.Body, "wedge_handler_panics_total 40")
}
