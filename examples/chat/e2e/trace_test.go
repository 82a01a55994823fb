package chat_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/internal/tracing"
)

// TestChatTraceAcrossNodes: one chat message posted through node 1 of a
// 3-node cluster, for a room another node owns, yields one trace,
// exported over OTLP/HTTP to a receiver built from the official protocol
// packages: node 1's request and its forwarding to the room's owner; on
// the owner, the messages function's request, guest run and KV write of
// the message; the notify trigger's delivery, linked to that write, and
// its own writes (the reader's inbox entry and unread counter) and its
// webhook request, whose traceparent header names the outbound span.
func TestChatTraceAcrossNodes(t *testing.T) {
	rcv := testutil.StartOTLPReceiver(t)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	var mu sync.Mutex
	hookTrace := ""
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		hookTrace = r.Header.Get("Traceparent")
		mu.Unlock()
	}))
	defer hook.Close()
	notifyAllowedHosts = []string{hook.URL}
	t.Cleanup(func() { notifyAllowedHosts = nil })

	nodes := startNodes(t, 3, func(c *node.Config) { c.Trace = tracing.Config{Endpoint: rcv.URL, Sample: 1} })
	apps := []*chatApp{deployChat(t, nodes[0])}
	for _, n := range nodes[1:] {
		apps = append(apps, &chatApp{n: n, url: n.PublicURL()})
	}
	waitServed(t, apps)
	// A kv trigger fires on the node that takes the write, for the
	// triggers it knows then (a known limit): wait until every node
	// serves every chat function, and until the room owners settled.
	testutil.Eventually(t, 180*time.Second, "every chat function on every node, owners settled", func() bool {
		now := time.Now().UnixMilli()
		for _, n := range nodes {
			for _, fn := range []string{"auth", "messages", "notify", "web"} {
				if _, ok := n.Registry.Get(fn); !ok {
					return false
				}
			}
			serving := 0
			for _, m := range n.Cluster.Members() {
				if at, ok := m.Serving["messages"]; ok && at <= now && m.State == "alive" {
					serving++
				}
			}
			if serving != len(nodes) || !n.Cluster.TookOver("messages") {
				return false
			}
		}
		return true
	})
	n1 := apps[0]
	name1 := nodes[0].Config.NodeName
	room, ownerName := "", ""
	for i := range 100 {
		r := fmt.Sprint("room", i)
		if o := roomOwner(nodes[0], r); o != name1 && o != "" && o == roomOwner(nodes[1], r) && o == roomOwner(nodes[2], r) {
			room, ownerName = r, o
			break
		}
	}
	if room == "" {
		t.Fatal("node 1 owns every room")
	}

	alice := n1.register(t, "alice", "correct horse battery")
	bob := n1.register(t, "bob", "tr0ub4dor&3 is weak")
	var r reply
	testutil.Eventually(t, 10*time.Second, "alice's session on the room's node", func() bool {
		r = n1.call(t, "PUT", "/api/rooms/"+room, alice, nil)
		return r.status != 401
	})
	want(t, r, 201, "create room")
	want(t, n1.call(t, "PUT", "/api/rooms/"+room+"/webhook", alice, map[string]string{"url": hook.URL + "/hook"}), 200, "set the webhook")
	testutil.Eventually(t, 10*time.Second, "bob joins", func() bool {
		return n1.call(t, "POST", "/api/rooms/"+room+"/join", bob, nil).status == 200
	})

	// The post, with the client's trace context.
	const traceID, clientSpan = "5bf92f3577b34da6a3ce929d0e0e4736", "10f067aa0ba902b7"
	req, _ := http.NewRequest("POST", n1.url+"/api/rooms/"+room+"/messages", bytes.NewReader([]byte(`{"text":"traced hello"}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Traceparent", "00-"+traceID+"-"+clientSpan+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.Contains(string(body), `"traced hello"`) {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}

	var spans []testutil.OTLPSpan
	find := func(name, node, parent, target string) *testutil.OTLPSpan {
		for i := range spans {
			s := &spans[i]
			if s.Name == name && s.Node == node && (parent == "" || s.Parent == parent) && (target == "" || s.Attrs["wedge.target"] == target) {
				return s
			}
		}
		return nil
	}
	inboxKey := fmt.Sprintf("chat/inbox/bob/%s/%020d", room, 1) // the app's key layout (shared/keys.go)
	testutil.Eventually(t, 20*time.Second, "the notify function's spans exported", func() bool {
		for _, n := range nodes {
			n.Tracer.Flush()
		}
		spans = rcv.Trace(traceID)
		return find("kv.put", ownerName, "", inboxKey) != nil && find("http.send", ownerName, "", "") != nil
	})
	must := func(what string, s *testutil.OTLPSpan) *testutil.OTLPSpan {
		t.Helper()
		if s == nil {
			var names []string
			for _, s := range spans {
				names = append(names, fmt.Sprintf("%s@%s(%s<-%s %s)", s.Name, s.Node, s.ID, s.Parent, s.Attrs["wedge.target"]))
			}
			t.Fatalf("no %s span in the trace; got %s", what, strings.Join(names, " "))
		}
		return s
	}
	// Each span is looked up under its parent: a missing link fails here.
	entry := must("request on node 1 under the client's", find("wedge.request", name1, clientSpan, ""))
	fwd := must("forward under node 1's request", find("wedge.forward", name1, entry.ID, ""))
	owned := must("request on the owner under the forward", find("wedge.request", ownerName, fwd.ID, ""))
	must("admission under the owner's request", find("admission", ownerName, owned.ID, ""))
	run := must("messages' guest run under the owner's request", find("guest.run", ownerName, owned.ID, ""))
	must("the room's message counter under the guest run", find("kv.increment", ownerName, run.ID, "chat/seq/"+room))
	msgPut := must("the message's kv.put under the guest run", find("kv.put", ownerName, run.ID, fmt.Sprintf("chat/msg/%s/%020d", room, 1)))
	ev := must("the notify trigger's delivery under the message's kv.put", find("wedge.event", ownerName, msgPut.ID, ""))
	evRun := must("notify's guest run under the delivery", find("guest.run", ownerName, ev.ID, ""))
	must("bob's inbox entry under notify's run", find("kv.put", ownerName, evRun.ID, inboxKey))
	must("bob's unread counter under notify's run", find("kv.increment", ownerName, evRun.ID, "chat/unread/bob/"+room))
	send := must("the webhook request under notify's run", find("http.send", ownerName, evRun.ID, ""))
	if fn := ev.Attrs["wedge.function"]; fn != "notify" {
		t.Errorf("the delivery span names function %q", fn)
	}
	if fn := entry.Attrs["wedge.function"]; fn != "" && fn != "messages" {
		t.Errorf("node 1's request span names function %q", fn)
	}
	// The webhook got the outbound span as its parent.
	testutil.Eventually(t, 10*time.Second, "the webhook's traceparent", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return hookTrace != ""
	})
	mu.Lock()
	defer mu.Unlock()
	if want := "00-" + traceID + "-" + send.ID + "-01"; hookTrace != want {
		t.Errorf("the webhook saw traceparent %q, want %q", hookTrace, want)
	}
}

// roomOwner is the node that owns room by n's view, "" if none.
func roomOwner(n *node.Node, room string) string {
	key, ok := registry.AffinityKey("/api/rooms/*", []byte("/api/rooms/"+room+"/messages"))
	if !ok {
		return ""
	}
	m, found := n.Cluster.FunctionOwner("messages", "messages/"+string(key))
	if !found {
		return ""
	}
	return m.Name
}
