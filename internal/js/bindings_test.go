package js_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// These tests run the bindings of env (KV, queues), fetch() and the
// event handlers on a real node.

func deployJS(t *testing.T, n *node.Node, name, script string, o client.DeployOptions) {
	t.Helper()
	o.JavaScript = true
	if _, _, err := testutil.Client(n).Deploy(context.Background(), name, []byte(script), o); err != nil {
		t.Fatalf("deploy %s: %v", name, err)
	}
}

const kvScript = `
export default {
  async fetch(request, env) {
    const q = new URL(request.url).searchParams;
    const kv = q.get("ns") === "shared" ? env.KV_SHARED_DATA : q.get("ns") ? env.KV.namespace(q.get("ns")) : env.KV;
    try {
      switch (new URL(request.url).pathname) {
        case "/kv/put":
          await kv.put(q.get("k"), q.get("v"), q.has("ttl") ? { expirationTtl: Number(q.get("ttl")) } : {});
          return new Response("stored");
        case "/kv/get": {
          const v = await kv.get(q.get("k"), { type: q.get("type") || "text" });
          if (v instanceof ArrayBuffer) return new Response("bytes:" + v.byteLength);
          return Response.json(v);
        }
        case "/kv/del":
          await kv.delete(q.get("k"));
          return new Response("deleted");
        case "/kv/list": {
          const page = await kv.list({ prefix: q.get("prefix") || "", cursor: q.get("cursor") || "", limit: Number(q.get("limit") || 1000) });
          return Response.json(page);
        }
      }
      return new Response("no such route", { status: 404 });
    } catch (e) {
      return new Response(e.name + ": " + e.message, { status: 500 });
    }
  },
};`

type kvPage struct {
	Keys []struct {
		Name string `json:"name"`
	} `json:"keys"`
	ListComplete bool   `json:"list_complete"`
	Cursor       string `json:"cursor"`
}

// TestKVBinding: env.KV over the function's namespace (get as text,
// json and arrayBuffer; put with expirationTtl; delete; list with a
// prefix, a limit and a cursor), env.KV_<NAME> over a granted namespace,
// and a namespace neither its own nor granted refused.
func TestKVBinding(t *testing.T) {
	n := testutil.StartNode(t, "")
	deployJS(t, n, "store", kvScript, client.DeployOptions{Routes: []string{"/kv/..."}, KVGrants: []string{"shared-data"}})
	get := func(path string) testutil.Response { return testutil.Get(t, n.PublicURL()+path) }
	want := func(path string, status int, body string) {
		t.Helper()
		if r := get(path); r.Status != status || r.Body != body {
			t.Fatalf("GET %s: %d %q, want %d %q", path, r.Status, r.Body, status, body)
		}
	}
	want("/kv/get?k=absent", 200, "null")
	want("/kv/put?k=greeting&v=hello", 200, "stored")
	want("/kv/get?k=greeting", 200, `"hello"`)
	want("/kv/put?k=obj&v="+url.QueryEscape(`{"n":7}`), 200, "stored")
	want("/kv/get?k=obj&type=json", 200, `{"n":7}`)
	want("/kv/get?k=greeting&type=arrayBuffer", 200, "bytes:5")
	want("/kv/get?k=greeting&type=stream", 500, `TypeError: KV get: type must be "text", "json" or "arrayBuffer", got "stream"`)
	// The value is in the function's namespace, for other clients too.
	if e, err := n.KV.Get("store", "greeting"); err != nil || string(e.Value) != "hello" {
		t.Fatalf("node KV store/greeting: %v %v", e, err)
	}
	want("/kv/del?k=greeting", 200, "deleted")
	want("/kv/get?k=greeting", 200, "null")

	// list: 5 keys under item/, pages of 2 with the cursor.
	for i := 0; i < 5; i++ {
		want(fmt.Sprintf("/kv/put?k=item/%d&v=%d", i, i), 200, "stored")
	}
	var names []string
	cursor, pages := "", 0
	for {
		r := get("/kv/list?prefix=item/&limit=2&cursor=" + url.QueryEscape(cursor))
		var p kvPage
		if err := json.Unmarshal([]byte(r.Body), &p); err != nil || r.Status != 200 {
			t.Fatalf("list: %d %q %v", r.Status, r.Body, err)
		}
		pages++
		for _, k := range p.Keys {
			names = append(names, k.Name)
		}
		if p.ListComplete {
			if p.Cursor != "" {
				t.Fatalf("complete page with cursor %q", p.Cursor)
			}
			break
		}
		if len(p.Keys) != 2 || p.Cursor == "" || pages > 5 {
			t.Fatalf("page %d: %+v", pages, p)
		}
		cursor = p.Cursor
	}
	if strings.Join(names, ",") != "item/0,item/1,item/2,item/3,item/4" || pages != 3 {
		t.Fatalf("listed %v in %d pages", names, pages)
	}

	// expirationTtl: there at once, gone after it.
	want("/kv/put?k=brief&v=soon-gone&ttl=1", 200, "stored")
	want("/kv/get?k=brief", 200, `"soon-gone"`)
	testutil.Eventually(t, 10*time.Second, "the TTL to expire the key", func() bool { return get("/kv/get?k=brief").Body == "null" })

	// A granted namespace as env.KV_SHARED_DATA; another namespace refused.
	want("/kv/put?ns=shared&k=x&v=shared-value", 200, "stored")
	if e, err := n.KV.Get("shared-data", "x"); err != nil || string(e.Value) != "shared-value" {
		t.Fatalf("node KV shared-data/x: %v %v", e, err)
	}
	want("/kv/get?ns=secret-stuff&k=x", 500, "TypeError: KV get: denied")
}

// TestFetch: fetch() reaches a 127.0.0.1 server on the function's
// allow-list (method, headers and body out; status, headers and body
// back) and is refused, as a rejected promise the script can catch, for
// a function whose allow-list does not name it.
func TestFetch(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Upstream", "yes")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "body": string(b), "auth": r.Header.Get("Authorization")})
	}))
	defer upstream.Close()
	n := testutil.StartNode(t, "")
	script := `
export default {
  async fetch(request, env) {
    try {
      const res = await fetch(env.UPSTREAM + "/echo", { method: "POST", body: JSON.stringify({ hi: 1 }), headers: { authorization: "Bearer t" } });
      const data = await res.json();
      return Response.json({ status: res.status, ok: res.ok, header: res.headers.get("x-upstream"), data });
    } catch (e) {
      return new Response(e.name + ": " + e.message, { status: 502 });
    }
  },
};`
	cfg := map[string]string{"UPSTREAM": upstream.URL}
	deployJS(t, n, "allowed", script, client.DeployOptions{Routes: []string{"/allowed"}, Config: cfg, AllowedHosts: []string{upstream.URL}})
	deployJS(t, n, "refused", script, client.DeployOptions{Routes: []string{"/refused"}, Config: cfg})
	r := testutil.Get(t, n.PublicURL()+"/allowed")
	if r.Status != 200 || r.Body != `{"status":201,"ok":true,"header":"yes","data":{"auth":"Bearer t","body":"{\"hi\":1}","method":"POST"}}` {
		t.Fatalf("allowed: %d %q", r.Status, r.Body)
	}
	r = testutil.Get(t, n.PublicURL()+"/refused")
	if r.Status != 502 || r.Body != "TypeError: fetch: denied" {
		t.Fatalf("refused: %d %q", r.Status, r.Body)
	}
}

// eventsScript records every event it handles in its KV namespace.
const eventsScript = `
export default {
  async scheduled(event, env, ctx) {
    ctx.waitUntil(env.KV.put("tick", JSON.stringify({ cron: event.cron, type: event.type, t: typeof event.scheduledTime })));
  },
  async queue(batch, env) {
    for (const m of batch.messages) {
      await env.KV.put("msg/" + m.body.n, JSON.stringify({ queue: batch.queue, n: m.body.n, attempts: m.attempts, id: typeof m.id }));
      m.ack();
    }
  },
  async kvChange(change, env) {
    await env.KV.put("seen/" + change.key, change.op + ":" + (await change.text()));
  },
  async upload(object, env) {
    await env.KV.put("upload/" + object.key, object.contentType + ":" + object.size + ":" + (await object.text()));
  },
  async fetch(request, env) {
    await env.QUEUES.send("jobs", { n: Number(new URL(request.url).searchParams.get("n")) });
    return new Response("queued");
  },
};`

// TestEventHandlers: scheduled run by a cron trigger (with
// ctx.waitUntil), queue consuming messages that fetch() published with
// env.QUEUES.send, kvChange on a key prefix, and upload reading the
// uploaded object.
func TestEventHandlers(t *testing.T) {
	n := testutil.StartNode(t, "")
	deployJS(t, n, "events", eventsScript, client.DeployOptions{Routes: []string{"/enqueue"}, KVGrants: []string{"inbox"}, Triggers: []string{
		`{"kind":"schedule","cron":"* * * * * *"}`,
		`{"kind":"queue","queue":"jobs"}`,
		`{"kind":"kv","namespace":"inbox","prefix":"in/"}`,
		`{"kind":"upload","bucket":"files"}`,
	}})
	val := func(key string) string {
		e, err := n.KV.Get("events", key)
		if err != nil {
			return ""
		}
		return string(e.Value)
	}
	testutil.Eventually(t, 15*time.Second, "a scheduled tick", func() bool { return val("tick") != "" })
	if got := val("tick"); got != `{"cron":"* * * * * *","type":"scheduled","t":"number"}` {
		t.Fatalf("tick: %s", got)
	}

	for i := 1; i <= 3; i++ {
		if r := testutil.Get(t, fmt.Sprintf("%s/enqueue?n=%d", n.PublicURL(), i)); r.Status != 200 || r.Body != "queued" {
			t.Fatalf("enqueue: %d %q", r.Status, r.Body)
		}
	}
	testutil.Eventually(t, 15*time.Second, "three queue messages consumed", func() bool { return val("msg/1") != "" && val("msg/2") != "" && val("msg/3") != "" })
	if got := val("msg/2"); got != `{"queue":"jobs","n":2,"attempts":1,"id":"string"}` {
		t.Fatalf("message 2: %s", got)
	}

	if _, err := testutil.Client(n).KVPut(context.Background(), "inbox", "in/a", []byte("first"), client.KVPutOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "the kv change", func() bool { return val("seen/in/a") == "put:first" })

	r := testutil.Do(t, "PUT", n.AdminURL()+"/v1/buckets/files/notes.txt", strings.NewReader("uploaded text"),
		map[string]string{"Authorization": "Bearer " + testutil.Token, "Content-Type": "text/plain"})
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	testutil.Eventually(t, 15*time.Second, "the upload event", func() bool { return val("upload/notes.txt") == "text/plain:13:uploaded text" })
}

// TestQueueRetry: a queue handler that throws, or calls retry(), has
// its batch delivered again with attempts counted up.
func TestQueueRetry(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) { c.RetryBackoff = 20 * time.Millisecond })
	deployJS(t, n, "flaky", `
export default {
  async queue(batch, env) {
    const m = batch.messages[0];
    if (m.attempts === 1) throw new Error("first attempt fails");
    if (m.attempts === 2) { m.retry(); return; }
    await env.KV.put("done", m.body + " after " + m.attempts);
  },
};`, client.DeployOptions{Triggers: []string{`{"kind":"queue","queue":"work","max_attempts":5}`}})
	if _, err := n.Events.Publish("work", []byte("job")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "the third attempt", func() bool {
		e, err := n.KV.Get("flaky", "done")
		return err == nil && string(e.Value) == "job after 3"
	})
}
