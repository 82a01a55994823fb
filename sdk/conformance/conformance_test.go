package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/internal/tracing"
	"github.com/wedge-run/wedge/model"
)

// guest is one language's implementation of the suite's routes.
type guest struct {
	lang  string
	build func(testing.TB) []byte
}

var guests = []guest{
	{"c", func(t testing.TB) []byte { return testutil.BuildC(t, "sdk/c/examples/hello") }},
	{"rust", func(t testing.TB) []byte { return testutil.BuildRust(t, "sdk/rust/examples/hello") }},
	{"as", func(t testing.TB) []byte { return testutil.BuildAS(t, "sdk/assemblyscript/examples/hello") }},
	{"go", func(t testing.TB) []byte { return testutil.BuildGoWasm(t, "sdk/conformance/testdata/go", true) }},
}

func TestConformance(t *testing.T) {
	for _, g := range guests {
		t.Run(g.lang, func(t *testing.T) { runSuite(t, g) })
	}
}

func runSuite(t *testing.T, g guest) {
	wasm := g.build(t)
	t.Logf("%s guest: %d bytes", g.lang, len(wasm))
	// Tracing on, kept in the node's ring: the event cases check that each
	// handler saw the traceparent of the event's cause.
	n := testutil.StartNode(t, "", func(c *node.Config) {
		c.RetryBackoff = 20 * time.Millisecond
		c.Trace = tracing.Config{Sample: 1}
	})
	name := "conf-" + g.lang
	queue := "jobs-" + g.lang
	bucket := "files-" + g.lang
	_, _, err := n.Registry.Deploy(context.Background(), registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: name, Routes: []string{"/" + g.lang + "/..."},
		Config:  map[string]string{"GREETING": "hi-" + g.lang},
		Secrets: map[string]string{"TOKEN": "s3cret"},
		Triggers: []model.Trigger{
			{Kind: "queue", Queue: queue},
			{Kind: "kv", Prefix: "watch/"},
			{Kind: "upload", Bucket: bucket},
			{Kind: "schedule", Cron: "* * * * * *"},
		}}, Wasm: wasm})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			for _, e := range n.Logs.Tail(name, 0, 100) {
				t.Logf("log %s %s %s", e.Level, e.Stream, e.Message)
			}
		}
	}()
	base := n.PublicURL() + "/" + g.lang
	stored := func(key string) string {
		e, err := n.KV.Get(name, key)
		if err != nil {
			return ""
		}
		return string(e.Value)
	}
	logged := func(level, msg string) bool {
		for _, e := range n.Logs.Tail(name, 0, 200) {
			if e.Level == level && strings.Contains(e.Message, msg) {
				return true
			}
		}
		return false
	}

	t.Run("hello", func(t *testing.T) {
		r := testutil.Get(t, base+"/hello?name=Ada+"+g.lang)
		if r.Status != 200 || r.Body != "hello, Ada "+g.lang+"\n" {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
		if got := r.Header.Get("X-Wedge-Sdk"); got != g.lang {
			t.Errorf("X-Wedge-Sdk %q", got)
		}
		if got := r.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type %q", got)
		}
	})
	t.Run("head", func(t *testing.T) {
		r := testutil.Get(t, base+"/head?a=1&b=two%20x")
		if want := "GET /" + g.lang + "/head a=1&b=two%20x 0\n"; r.Status != 200 || r.Body != want {
			t.Fatalf("%d %q, want %q", r.Status, r.Body, want)
		}
		r = testutil.Do(t, "POST", base+"/head", strings.NewReader("abc"), nil)
		if want := "POST /" + g.lang + "/head  3\n"; r.Status != 200 || r.Body != want {
			t.Fatalf("%d %q, want %q", r.Status, r.Body, want)
		}
	})
	t.Run("echo", func(t *testing.T) {
		body := make([]byte, 1<<20)
		rand.Read(body)
		r := testutil.Do(t, "PUT", base+"/echo?status=201", bytes.NewReader(body), map[string]string{"X-Echo": "v 1"})
		if r.Status != 201 || r.Header.Get("X-Echo") != "v 1" {
			t.Fatalf("%d, X-Echo %q", r.Status, r.Header.Get("X-Echo"))
		}
		if len(r.Body) != len(body) || sha256.Sum256([]byte(r.Body)) != sha256.Sum256(body) {
			t.Fatalf("echoed %d bytes, not the %d sent", len(r.Body), len(body))
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("Content-Type %q", ct)
		}
	})
	t.Run("count", func(t *testing.T) {
		for _, want := range []string{"1\n", "2\n", "3\n"} {
			if r := testutil.Get(t, base+"/count"); r.Status != 200 || r.Body != want {
				t.Fatalf("%d %q, want %q", r.Status, r.Body, want)
			}
		}
		if e, err := n.KV.Get(name, "counter"); err != nil || string(e.Value) != "3" {
			t.Fatalf("stored counter %q, %v", e.Value, err)
		}
	})
	t.Run("fresh", func(t *testing.T) {
		// Every request a fresh instance: state one leaves behind never
		// reaches the next, one after another or side by side.
		for i := 0; i < 5; i++ {
			if r := testutil.Get(t, base+"/fresh"); r.Status != 200 || r.Body != "global=1 heap=1\n" {
				t.Fatalf("request %d: %d %q, want global=1 heap=1", i+1, r.Status, r.Body)
			}
		}
		var wg sync.WaitGroup
		bodies := make([]string, 8)
		for i := range bodies {
			wg.Go(func() {
				r, err := http.Get(base + "/fresh")
				if err != nil {
					bodies[i] = err.Error()
					return
				}
				defer r.Body.Close()
				b, _ := io.ReadAll(r.Body)
				bodies[i] = fmt.Sprintf("%d %s", r.StatusCode, b)
			})
		}
		wg.Wait()
		for i, b := range bodies {
			if b != "200 global=1 heap=1\n" {
				t.Errorf("concurrent request %d: %q", i+1, b)
			}
		}
	})
	t.Run("kv", func(t *testing.T) {
		r := testutil.Get(t, base+"/kv")
		want := "put:ok cas:ok stale:version conflict absent:version conflict get:two version:ok " +
			"list:kv/a,kv/b, delete:ok gone:not found\n"
		if r.Status != 200 || r.Body != want {
			t.Fatalf("%d %q\nwant %q", r.Status, r.Body, want)
		}
	})
	t.Run("config", func(t *testing.T) {
		for key, want := range map[string]string{"GREETING": "hi-" + g.lang + "\n", "TOKEN": "s3cret\n"} {
			if r := testutil.Get(t, base+"/config?key="+key); r.Status != 200 || r.Body != want {
				t.Errorf("%s: %d %q", key, r.Status, r.Body)
			}
		}
		if r := testutil.Get(t, base+"/config?key=UNSET"); r.Status != 404 {
			t.Errorf("UNSET: %d %q", r.Status, r.Body)
		}
	})
	t.Run("log", func(t *testing.T) {
		if r := testutil.Get(t, base+"/log?msg=marker-"+g.lang); r.Status != 200 {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
		testutil.Eventually(t, 5*time.Second, "the log line", func() bool { return logged("info", "log: marker-"+g.lang) })
	})
	t.Run("trap", func(t *testing.T) {
		if r := testutil.Get(t, base+"/trap"); r.Status != 500 {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
		testutil.Eventually(t, 5*time.Second, "the panic message", func() bool { return logged("error", "boom from "+g.lang) })
		if r := testutil.Get(t, base+"/hello"); r.Status != 200 {
			t.Fatalf("after the trap: %d %q", r.Status, r.Body)
		}
	})
	// The event cases: each kind reaches the guest's typed handler for it,
	// which records what it decoded under "seen-<kind>", and the
	// traceparent it was given under "trace-<kind>".
	t.Run("event-queue", func(t *testing.T) {
		// The message is published by a traced request: the handler sees
		// the traceparent of the guest's queue.publish span in that
		// request's trace, and the delivery is that span's child.
		traceID, clientSpan := randomHex(16), randomHex(8)
		r := testutil.Do(t, "POST", base+"/publish?queue="+queue, strings.NewReader("payload-"+g.lang),
			map[string]string{"traceparent": "00-" + traceID + "-" + clientSpan + "-01"})
		if r.Status != 202 {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
		want := queue + " payload-" + g.lang + " 0"
		testutil.Eventually(t, 10*time.Second, "seen-queue = "+want, func() bool { return stored("seen-queue") == want })
		tp := stored("trace-queue")
		parts := strings.Split(tp, "-")
		if len(parts) != 4 || parts[1] != traceID || parts[2] == clientSpan {
			t.Fatalf("the queue handler saw traceparent %q, want one in trace %s", tp, traceID)
		}
		var spans []tracing.SpanRecord
		testutil.Eventually(t, 5*time.Second, "the delivery's span in the ring", func() bool {
			spans, _ = n.Tracer.Ring().Get(traceID)
			return findSpan(spans, "wedge.event", parts[2]) != nil
		})
		var pub *tracing.SpanRecord
		for i := range spans {
			if spans[i].SpanID == parts[2] {
				pub = &spans[i]
			}
		}
		if pub == nil || pub.Name != "queue.publish" {
			t.Fatalf("the traceparent the handler saw names span %+v, not the request's queue.publish; spans %+v", pub, spans)
		}
		if req := findSpan(spans, "wedge.request", clientSpan); req == nil {
			t.Fatalf("no request span under the client's in %+v", spans)
		}
	})
	t.Run("event-kv", func(t *testing.T) {
		// The key needs JSON escapes (a quote, <> as \u003c \u003e, é): the
		// guests' JSON readers must decode them.
		key := `watch/<k>"é`
		// Written as a traced guest's kv_put writes (chat's e2e trace test
		// covers a write made by a request).
		tp := "00-" + randomHex(16) + "-" + randomHex(8) + "-01"
		e, err := n.KV.Put(context.Background(), name, key, []byte("v "+g.lang), kv.PutOptions{Trace: tp})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("put %s 0 %d v %s", key, e.Version, g.lang)
		testutil.Eventually(t, 10*time.Second, "seen-kv = "+want, func() bool { return stored("seen-kv") == want })
		if got := stored("trace-kv"); got != tp {
			t.Fatalf("the kv handler saw traceparent %q, want the write's %q", got, tp)
		}
	})
	t.Run("event-upload", func(t *testing.T) {
		content := make([]byte, 100_000)
		rand.Read(content)
		tp := "00-" + randomHex(16) + "-" + randomHex(8) + "-01"
		r := testutil.Do(t, "PUT", n.AdminURL()+"/v1/buckets/"+bucket+"/dir/x.bin", bytes.NewReader(content),
			map[string]string{"Authorization": "Bearer " + testutil.Token, "Content-Type": "application/x-test", "traceparent": tp})
		if r.Status != 201 {
			t.Fatalf("upload %d %s", r.Status, r.Body)
		}
		sum := sha256.Sum256(content)
		want := fmt.Sprintf("%s dir/x.bin %d application/x-test %s", bucket, len(content), hex.EncodeToString(sum[:]))
		testutil.Eventually(t, 10*time.Second, "seen-upload = "+want, func() bool { return stored("seen-upload") == want })
		if got := stored("upload-body"); got != string(content) {
			t.Fatalf("the object read through object_read: %d bytes, not the %d uploaded", len(got), len(content))
		}
		if got := stored("trace-upload"); got != tp {
			t.Fatalf("the upload handler saw traceparent %q, want the uploader's %q", got, tp)
		}
	})
	t.Run("event-schedule", func(t *testing.T) {
		testutil.Eventually(t, 10*time.Second, "two ticks", func() bool {
			n, _ := strconv.Atoi(stored("ticks"))
			return n >= 2
		})
		parts := strings.Split(stored("seen-schedule"), "|")
		if len(parts) != 3 || parts[0] != "* * * * * *" || parts[1] != "UTC" {
			t.Fatalf("seen-schedule %q", stored("seen-schedule"))
		}
		at, err := time.Parse(time.RFC3339, parts[2])
		if err != nil || time.Since(at) > time.Minute || time.Until(at) > time.Second {
			t.Fatalf("scheduled %q: %v", parts[2], err)
		}
	})
	t.Run("not-found", func(t *testing.T) {
		if r := testutil.Get(t, base+"/nope"); r.Status != 404 {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
	})
}

// findSpan returns the first span named name whose parent is parent, or
// nil.
func findSpan(spans []tracing.SpanRecord, name, parent string) *tracing.SpanRecord {
	for i := range spans {
		if spans[i].Name == name && spans[i].ParentID == parent {
			return &spans[i]
		}
	}
	return nil
}

// randomHex is n random bytes in hex: a trace or span id.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
