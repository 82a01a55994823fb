package node_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/internal/tracing"
)

// chatPostWAT stands for the chat app's post: it stores the message under
// msg/ in the app's namespace and answers "posted".
const chatPostWAT = `(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (import "wedge_v1" "kv_put" (func $put (param i32 i32 i32 i32 i32 i32 i64 i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "msg/1")
  (data (i32.const 32) "hello")
  (data (i32.const 48) "posted")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (drop (call $put (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 5) (i64.const 0) (i64.const -1)))
    (drop (call $write (i32.const 48) (i32.const 6)))
    (i32.const 0)))`

// chatNotifyWAT stands for notify: a KV trigger on msg/ that records the
// delivery under seen/.
const chatNotifyWAT = `(module
  (import "wedge_v1" "kv_put" (func $put (param i32 i32 i32 i32 i32 i32 i64 i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "seen/1")
  (func (export "wedge_event") (param i32) (result i32)
    (drop (call $put (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 6) (i32.const 16) (i32.const 6) (i64.const 0) (i64.const -1)))
    (i32.const 0)))`

// TestTraceAcrossNodes: a message posted through node 1 for a room owned
// by another node yields one trace, exported over OTLP/HTTP to a real
// receiver, whose spans cover the request on node 1, its forwarding to
// the room's owner, the request there with its admission, instance and
// guest run, the KV write, and the notify trigger's delivery and write,
// each linked to its parent across the nodes.
func TestTraceAcrossNodes(t *testing.T) {
	rcv := testutil.StartOTLPReceiver(t)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	start := func(name string, join *node.Node) *node.Node {
		return testutil.StartNode(t, "", func(c *node.Config) {
			c.NodeName, c.GossipAddr, c.ClusterPreset, c.ClusterKey = name, "127.0.0.1:0", "local", testKey
			c.Trace = tracing.Config{Endpoint: rcv.URL, Sample: 1}
			if join != nil {
				c.Join = []string{join.Cluster.Addr()}
			}
		})
	}
	n1 := start("n1", nil)
	n2 := start("n2", n1)
	n3 := start("n3", n1)
	nodes := []*node.Node{n1, n2, n3}
	testutil.Eventually(t, 5*time.Second, "3 alive members everywhere", func() bool {
		return alive(n1) == 3 && alive(n2) == 3 && alive(n3) == 3
	})
	cl := testutil.Client(n1)
	if _, _, err := cl.Deploy(ctx, "notify", testutil.WAT(t, chatNotifyWAT), client.DeployOptions{KVNamespace: "chat",
		Triggers: []string{`{"kind":"kv","namespace":"chat","prefix":"msg/"}`}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cl.Deploy(ctx, "post", testutil.WAT(t, chatPostWAT), client.DeployOptions{KVNamespace: "chat",
		Routes: []string{"/rooms/..."}, Affinity: "/rooms/*"}); err != nil {
		t.Fatal(err)
	}
	ownersSettled(t, "post", nodes...)
	room := ""
	for i := range 100 {
		if k := fmt.Sprint("room", i); owner(n1, "post", k) != "n1" {
			room = k
			break
		}
	}
	if room == "" {
		t.Fatal("n1 owns every room")
	}
	ownerName := owner(n1, "post", room)
	for _, n := range nodes {
		if _, ok := n.Registry.Get("notify"); !ok {
			testutil.Eventually(t, 10*time.Second, "notify on "+n.Config.NodeName, func() bool { _, ok := n.Registry.Get("notify"); return ok })
		}
	}

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	r := testutil.Do(t, "POST", n1.PublicURL()+"/rooms/"+room+"/messages", nil,
		map[string]string{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"})
	if r.Status != 200 || r.Body != "posted" || r.Header.Get("X-Wedge-Served-By") == "" {
		t.Fatalf("post: %d %q, served by %q", r.Status, r.Body, r.Header.Get("X-Wedge-Served-By"))
	}
	var spans []testutil.OTLPSpan
	find := func(name, node, target string) *testutil.OTLPSpan {
		for i := range spans {
			s := &spans[i]
			if s.Name == name && s.Node == node && (target == "" || s.Attrs["wedge.target"] == target) {
				return s
			}
		}
		return nil
	}
	testutil.Eventually(t, 10*time.Second, "the trigger's write exported", func() bool {
		for _, n := range nodes {
			n.Tracer.Flush()
		}
		spans = rcv.Trace(traceID)
		return find("kv.put", ownerName, "chat/seen/1") != nil
	})
	entry := find("wedge.request", "n1", "")
	fwd := find("wedge.forward", "n1", "")
	req := find("wedge.request", ownerName, "")
	put := find("kv.put", ownerName, "chat/msg/1")
	ev := find("wedge.event", ownerName, "")
	evPut := find("kv.put", ownerName, "chat/seen/1")
	// The trigger's delivery runs notify on the owner too, with its own
	// admission, instantiate and guest run under the event: the
	// request's are the others (spans arrive in no set order).
	notEvent := func(name string) *testutil.OTLPSpan {
		for i := range spans {
			s := &spans[i]
			if s.Name == name && s.Node == ownerName && (ev == nil || s.Parent != ev.ID) {
				return s
			}
		}
		return nil
	}
	adm, inst, run := notEvent("admission"), notEvent("instantiate"), notEvent("guest.run")
	for name, s := range map[string]*testutil.OTLPSpan{"request on n1": entry, "forward": fwd, "request on the owner": req, "admission": adm,
		"instantiate": inst, "guest run": run, "kv.put msg": put, "event": ev, "kv.put seen": evPut} {
		if s == nil {
			t.Fatalf("no %s span in the trace; got %+v", name, spans)
		}
	}
	links := []struct {
		what          string
		child, parent *testutil.OTLPSpan
	}{{"forward under n1's request", fwd, entry}, {"owner's request under the forward", req, fwd},
		{"admission under the request", adm, req}, {"guest run under the request", run, req},
		{"kv.put under the guest run", put, run}, {"event under the kv.put that fired it", ev, put}}
	for _, l := range links {
		if l.child.Parent != l.parent.ID {
			t.Errorf("%s: parent %s, want %s", l.what, l.child.Parent, l.parent.ID)
		}
	}
	if entry.Parent != "00f067aa0ba902b7" {
		t.Errorf("n1's request does not continue the client's traceparent: parent %s", entry.Parent)
	}
	if evPut.Parent == "" || find("guest.run", ownerName, "") == nil {
		t.Errorf("trigger write has no parent")
	}
	if entry.Attrs["wedge.function"] != "" && entry.Attrs["wedge.function"] != "post" {
		t.Errorf("request span names function %q", entry.Attrs["wedge.function"])
	}
}

// TestTraceRing: without an exporter, a node keeps its last traces in
// memory and the admin API serves them.
func TestTraceRing(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) { c.Trace = tracing.Config{Sample: 1, RingTraces: 2} })
	deploy(t, n, "hello", text(t, "hi"), "/hello")
	ids := []string{"0af7651916cd43dd8448eb211c80319c", "1af7651916cd43dd8448eb211c80319c", "2af7651916cd43dd8448eb211c80319c"}
	for _, id := range ids {
		if r := testutil.Do(t, "GET", n.PublicURL()+"/hello", nil, map[string]string{"traceparent": "00-" + id + "-b7ad6b7169203331-01"}); r.Body != "hi" {
			t.Fatalf("hello: %d %q", r.Status, r.Body)
		}
	}
	auth := map[string]string{"Authorization": "Bearer " + testutil.Token}
	var list struct {
		Traces []tracing.TraceSummary `json:"traces"`
	}
	r := testutil.Do(t, "GET", n.AdminURL()+"/v1/traces", nil, auth)
	if err := json.Unmarshal([]byte(r.Body), &list); err != nil || r.Status != 200 {
		t.Fatalf("list: %d %s %v", r.Status, r.Body, err)
	}
	// Bounded: the oldest of three traces is gone, the newest first.
	if len(list.Traces) != 2 || list.Traces[0].TraceID != ids[2] || list.Traces[1].TraceID != ids[1] || list.Traces[0].Root != "wedge.request" {
		t.Fatalf("traces %+v", list.Traces)
	}
	var one struct {
		Spans []tracing.SpanRecord `json:"spans"`
	}
	r = testutil.Do(t, "GET", n.AdminURL()+"/v1/traces/"+ids[2], nil, auth)
	if err := json.Unmarshal([]byte(r.Body), &one); err != nil || r.Status != 200 {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	names := map[string]bool{}
	for _, s := range one.Spans {
		names[s.Name] = true
	}
	for _, want := range []string{"wedge.request", "admission", "instantiate", "guest.run"} {
		if !names[want] {
			t.Errorf("no %s span in %+v", want, one.Spans)
		}
	}
	if r := testutil.Do(t, "GET", n.AdminURL()+"/v1/traces/"+ids[0], nil, auth); r.Status != 404 {
		t.Errorf("evicted trace: %d", r.Status)
	}
	if r := testutil.Do(t, "GET", n.AdminURL()+"/v1/traces", nil, nil); r.Status != 401 {
		t.Errorf("without a token: %d", r.Status)
	}
	// Tracing off: no ring, a 404 that says why.
	off := testutil.StartNode(t, "")
	if off.Tracer != nil {
		t.Fatal("tracing on without being asked")
	}
	if r := testutil.Do(t, "GET", off.AdminURL()+"/v1/traces", nil, auth); r.Status != 404 {
		t.Errorf("tracing off: %d %s", r.Status, r.Body)
	}
}
