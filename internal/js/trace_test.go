package js_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/internal/tracing"
)

// traceScript publishes a queue message and writes a watched key from a
// request; its queue and kvChange handlers record the traceparent their
// argument carries.
const traceScript = `
export default {
  async fetch(request, env) {
    await env.QUEUES.send("traced", "m");
    await env.KV.put("watch/k", "v");
    return new Response("sent");
  },
  async queue(batch, env) { await env.KV.put("trace-queue", batch.traceparent); },
  async kvChange(change, env) { await env.KV.put("trace-kv", change.traceparent); },
};`

// TestEventHandlersSeeTraceParent: on a node with tracing on, the queue
// and kvChange handlers of a script get the traceparent of the request's
// publish and KV write (the spans of that request's trace that caused
// them).
func TestEventHandlersSeeTraceParent(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) { c.Trace = tracing.Config{Sample: 1} })
	deployJS(t, n, "traced", traceScript, client.DeployOptions{Routes: []string{"/traced"},
		Triggers: []string{`{"kind":"queue","queue":"traced"}`, `{"kind":"kv","prefix":"watch/"}`}})
	const traceID = "6bf92f3577b34da6a3ce929d0e0e4736"
	if r := testutil.Do(t, "POST", n.PublicURL()+"/traced", nil, map[string]string{"traceparent": "00-" + traceID + "-20f067aa0ba902b7-01"}); r.Status != 200 || r.Body != "sent" {
		t.Fatalf("%d %q", r.Status, r.Body)
	}
	stored := func(key string) string {
		e, err := n.KV.Get("traced", key)
		if err != nil {
			return ""
		}
		return string(e.Value)
	}
	testutil.Eventually(t, 15*time.Second, "both handlers ran", func() bool { return stored("trace-queue") != "" && stored("trace-kv") != "" })
	spans, _ := n.Tracer.Ring().Get(traceID)
	for key, span := range map[string]string{"trace-queue": "queue.publish", "trace-kv": "kv.put"} {
		tp := strings.Split(stored(key), "-")
		if len(tp) != 4 || tp[1] != traceID {
			t.Errorf("%s: traceparent %q, not in trace %s", key, stored(key), traceID)
			continue
		}
		name := ""
		for _, s := range spans {
			if s.SpanID == tp[2] {
				name = s.Name
			}
		}
		if name != span {
			t.Errorf("%s: the traceparent names span %q, want the request's %s", key, name, span)
		}
	}
}
