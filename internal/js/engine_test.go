package js_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/js"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/testutil"
)

// These tests run the committed engine in the real runtime, without a
// node: combine, pre-initialize (the deploy-time snapshot), invoke.

type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) Append(function, requestID string, level int32, stream string, line []byte) {
	l.mu.Lock()
	l.lines = append(l.lines, string(line))
	l.mu.Unlock()
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func newEngine(t testing.TB) *runtime.Engine {
	e, err := runtime.NewEngine(runtime.Config{CacheDir: testutil.SharedArtifacts()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	e.ShareCode(js.Engine()) // as the registry does: snapshots are served split
	return e
}

// deploy combines script with the engine and snapshots it.
func deploy(t testing.TB, e *runtime.Engine, env *runtime.Env, script string) (*runtime.Module, error) {
	wasm, err := js.Combine([]byte(script))
	if err != nil {
		t.Fatal(err)
	}
	snap, _, err := e.Preinitialize(wasm, env)
	if err != nil {
		return nil, err
	}
	m, err := e.Compile(snap)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Release)
	return m, nil
}

func head(method, uri string, headers ...string) []byte {
	h := abi.AppendString(nil, method)
	h = abi.AppendString(h, uri)
	h = abi.AppendString(h, "example.test")
	h = abi.AppendString(h, "127.0.0.1:1")
	h = abi.AppendString(h, "req-1")
	h = abi.AppendString(h, "/")
	h = abi.AppendU32(h, uint32(len(headers)/2))
	for _, s := range headers {
		h = abi.AppendString(h, s)
	}
	return h
}

func invoke(t testing.TB, m *runtime.Module, env *runtime.Env, hd []byte, body string) (int, string, error) {
	c := runtime.NewCall()
	defer c.Release()
	c.Env = env
	c.Head = append(c.Head[:0], hd...)
	c.Body = []byte(body)
	err := m.Invoke(c)
	return c.Status, string(c.Output), err
}

func TestHelloSnapshot(t *testing.T) {
	e := newEngine(t)
	logs := &logSink{}
	env := runtime.NewEnv("hello", map[string]string{"GREETING": "hi"}, runtime.Limits{})
	env.Logs = logs
	m, err := deploy(t, e, env, `
let count = 0;
console.log("loaded");
export default {
  async fetch(request, env, ctx) {
    count++;
    console.log("count", count, request.method);
    return new Response(env.GREETING + " " + count + " " + request.method + " " + request.url);
  },
};`)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	for i := 0; i < 2; i++ {
		status, out, err := invoke(t, m, env, head("GET", "/x?a=1"), "")
		if err != nil || status != 200 || out != "hi 1 GET http://example.test/x?a=1" {
			t.Fatalf("request %d: %d %q %v; logs:\n%s", i, status, out, err, logs)
		}
	}
	if got := strings.Count(logs.String(), "loaded"); got != 1 {
		t.Errorf("top-level code ran %d times, want once (at deploy); logs:\n%s", got, logs)
	}
	if !strings.Contains(logs.String(), "count 1 GET") {
		t.Errorf("console.log missing from logs:\n%s", logs)
	}
}

func TestJSONBody(t *testing.T) {
	e := newEngine(t)
	env := runtime.NewEnv("json", nil, runtime.Limits{})
	m, err := deploy(t, e, env, `
export default {
  async fetch(request) {
    const body = await request.json();
    return Response.json({ got: body.n * 2, type: request.headers.get("content-type") }, { status: 201 });
  },
};`)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	status, out, err := invoke(t, m, env, head("POST", "/", "Content-Type", "application/json"), `{"n": 21}`)
	if err != nil || status != 201 || out != `{"got":42,"type":"application/json"}` {
		t.Fatalf("got %d %q %v", status, out, err)
	}
}

func TestSyntaxErrorHasLineAndColumn(t *testing.T) {
	e := newEngine(t)
	env := runtime.NewEnv("bad", nil, runtime.Limits{})
	_, err := deploy(t, e, env, "export default {\n  fetch() {\n    return new Response(;\n  }\n};\n")
	var ie *runtime.InitError
	if !errors.As(err, &ie) {
		t.Fatalf("want an InitError, got %v", err)
	}
	if !strings.Contains(ie.Log, "SyntaxError") || !strings.Contains(ie.Log, "worker.js:3:") {
		t.Fatalf("log lacks the SyntaxError and its position: %q", ie.Log)
	}
}

func TestNoFetchHandlerFailsDeploy(t *testing.T) {
	e := newEngine(t)
	env := runtime.NewEnv("nofetch", nil, runtime.Limits{})
	_, err := deploy(t, e, env, "export default { hello() {} };")
	var ie *runtime.InitError
	if !errors.As(err, &ie) || !strings.Contains(ie.Log, "fetch") {
		t.Fatalf("want an InitError naming fetch, got %v", err)
	}
}

func TestThrowIs500WithStack(t *testing.T) {
	e := newEngine(t)
	logs := &logSink{}
	env := runtime.NewEnv("throw", nil, runtime.Limits{})
	env.Logs = logs
	m, err := deploy(t, e, env, `
function fail() {
  throw new Error("boom");
}
export default {
  async fetch() { fail(); },
};`)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	_, _, err = invoke(t, m, env, head("GET", "/"), "")
	if !errors.Is(err, runtime.ErrHandler) {
		t.Fatalf("want ErrHandler, got %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "Error: boom") || !strings.Contains(l, "worker.js:3") {
		t.Fatalf("logs lack the error and its stack:\n%s", l)
	}
}

func jsCombine(t testing.TB, script string) ([]byte, error) {
	wasm, err := js.Combine([]byte(script))
	if err != nil {
		t.Fatal(err)
	}
	return wasm, nil
}

func TestInfiniteLoopTimesOut(t *testing.T) {
	e := newEngine(t)
	env := runtime.NewEnv("loop", nil, runtime.Limits{Timeout: 300 * time.Millisecond})
	m, err := deploy(t, e, env, "export default { fetch() { for (;;) {} } };")
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if _, _, err := invoke(t, m, env, head("GET", "/"), ""); !errors.Is(err, runtime.ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
}

// TestWebAPIs runs the Web APIs beyond Request and Response the way the
// Workers examples use them; the handler answers "ok" or what failed.
func TestWebAPIs(t *testing.T) {
	e := newEngine(t)
	logs := &logSink{}
	env := runtime.NewEnv("apis", nil, runtime.Limits{})
	env.Logs = logs
	m, err := deploy(t, e, env, `
function check(what, got, want) {
  if (got !== want) throw new Error(what + ": got " + JSON.stringify(got) + ", want " + JSON.stringify(want));
}
addEventListener("fetch", (event) => event.respondWith(handle(event.request)));
async function handle(request) {
  const url = new URL(request.url);
  check("pathname", url.pathname, "/a/b");
  check("query", url.searchParams.get("name"), "x y");
  check("host", url.host, "example.test");
  check("origin", url.origin, "http://example.test");
  check("relative", new URL("../c?d=1#h", url).href, "http://example.test/c?d=1#h");
  check("absolute path", new URL("/z", "https://u:p@h.test:8443/q").href, "https://u:p@h.test:8443/z");
  check("default port", new URL("https://h.test:443/").host, "h.test");
  url.searchParams.set("name", "z&w");
  url.searchParams.append("n", "2");
  check("search", url.search, "?name=z%26w&n=2");
  check("href", url.toString(), "http://example.test/a/b?name=z%26w&n=2");
  const p = new URLSearchParams({ a: "1", b: "é" });
  check("params", p.toString(), "a=1&b=%C3%A9");
  check("params size", new URLSearchParams("a=1&a=2&b").getAll("a").join(","), "1,2");
  let bad = false;
  try { new URL("no scheme"); } catch (e) { bad = e instanceof TypeError; }
  check("invalid URL", bad, true);
  const bytes = new TextEncoder().encode("héllo");
  check("encode", bytes.length, 6);
  check("decode", new TextDecoder().decode(bytes), "héllo");
  check("btoa", btoa("hello"), "aGVsbG8=");
  check("atob", atob("aGVsbG8="), "hello");
  check("random", typeof Math.random(), "number");
  const r = Response.redirect("https://example.test/x", 301);
  check("redirect", r.status + " " + r.headers.get("Location"), "301 https://example.test/x");
  check("headers", [...new Headers({ B: "2", a: "1" }).keys()].join(","), "a,b");
  check("arrayBuffer", (await new Response("abc").arrayBuffer()).byteLength, 3);
  return new Response("ok");
}
`)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	status, out, err := invoke(t, m, env, head("GET", "/a/b?name=x+y"), "")
	if err != nil || status != 200 || out != "ok" {
		t.Fatalf("got %d %q %v; logs:\n%s", status, out, err, logs)
	}
}

// TestCryptoRandom: crypto.randomUUID is a version 4 UUID, unique across
// calls and across requests (each instance starts from the same
// snapshot, so a generator seeded at deploy would repeat);
// getRandomValues fills integer arrays and refuses others.
func TestCryptoRandom(t *testing.T) {
	e := newEngine(t)
	logs := &logSink{}
	env := runtime.NewEnv("crypto", nil, runtime.Limits{})
	env.Logs = logs
	m, err := deploy(t, e, env, `
export default {
  fetch() {
    const ids = [];
    for (let i = 0; i < 100; i++) ids.push(crypto.randomUUID());
    const a = crypto.getRandomValues(new Uint32Array(8));
    let refused = "";
    try { crypto.getRandomValues(new Float64Array(2)); } catch (e) { refused += e.name; }
    try { crypto.getRandomValues(new Uint8Array(65537)); } catch (e) { refused += "," + e.name; }
    return Response.json({ ids, nonzero: a.some((x) => x !== 0), refused, r: Math.random() });
  },
};`)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	randoms := map[float64]bool{}
	for i := 0; i < 3; i++ {
		status, out, err := invoke(t, m, env, head("GET", "/"), "")
		if err != nil || status != 200 {
			t.Fatalf("request %d: %d %q %v; logs:\n%s", i, status, out, err, logs)
		}
		var got struct {
			IDs     []string `json:"ids"`
			Nonzero bool     `json:"nonzero"`
			Refused string   `json:"refused"`
			R       float64  `json:"r"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		for _, id := range got.IDs {
			if !uuidRE.MatchString(id) {
				t.Fatalf("not a version 4 UUID: %q", id)
			}
			if seen[id] {
				t.Fatalf("UUID %s seen twice", id)
			}
			seen[id] = true
		}
		if !got.Nonzero || got.Refused != "TypeError,RangeError" {
			t.Fatalf("getRandomValues: %+v", got)
		}
		randoms[got.R] = true
	}
	if len(seen) != 300 || len(randoms) != 3 {
		t.Fatalf("%d distinct UUIDs (want 300), %d distinct Math.random() first values (want 3)", len(seen), len(randoms))
	}
}

// TestStructuredClone: a deep copy that keeps types, shared references
// and cycles, and refuses functions.
func TestStructuredClone(t *testing.T) {
	e := newEngine(t)
	logs := &logSink{}
	env := runtime.NewEnv("clone", nil, runtime.Limits{})
	env.Logs = logs
	m, err := deploy(t, e, env, `
function check(what, ok) { if (!ok) throw new Error(what); }
export default {
  fetch() {
    const shared = { n: 1 };
    const src = { a: [1, "x", shared, shared], d: new Date(5), m: new Map([["k", shared]]), s: new Set([1, 2]),
                  u: new Uint8Array([1, 2, 3]), re: /a+/g, nested: { deep: { v: true } } };
    src.self = src;
    const c = structuredClone(src);
    check("copy", c !== src && c.a !== src.a && c.nested.deep !== src.nested.deep);
    check("values", c.a[0] === 1 && c.a[1] === "x" && c.nested.deep.v === true);
    check("shared", c.a[2] === c.a[3] && c.a[2] !== shared && c.m.get("k") === c.a[2]);
    check("cycle", c.self === c);
    check("date", c.d instanceof Date && c.d.getTime() === 5);
    check("set", c.s instanceof Set && c.s.has(2));
    check("bytes", c.u instanceof Uint8Array && c.u[2] === 3 && c.u.buffer !== src.u.buffer);
    check("regexp", c.re instanceof RegExp && c.re.flags === "g");
    let err = "";
    try { structuredClone({ f() {} }); } catch (e) { err = e.name; }
    check("function refused: " + err, err === "DataCloneError");
    return new Response("ok");
  },
};`)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if status, out, err := invoke(t, m, env, head("GET", "/"), ""); err != nil || status != 200 || out != "ok" {
		t.Fatalf("got %d %q %v; logs:\n%s", status, out, err, logs)
	}
}

// TestTimers: setTimeout callbacks fire in order of their due time while
// the handler waits, clearTimeout cancels, and a timer still pending
// when the response is sent is dropped (it never runs, in that request
// or the next).
func TestTimers(t *testing.T) {
	e := newEngine(t)
	logs := &logSink{}
	env := runtime.NewEnv("timers", nil, runtime.Limits{})
	env.Logs = logs
	m, err := deploy(t, e, env, `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  async fetch(request) {
    const order = [];
    const t0 = Date.now();
    setTimeout(() => order.push("c"), 30);
    setTimeout((x) => order.push(x), 10, "a");
    const cancelled = setTimeout(() => order.push("never"), 5);
    setTimeout(() => order.push("b"), 20);
    clearTimeout(cancelled);
    let ticks = 0;
    const iv = setInterval(() => { if (++ticks === 3) clearInterval(iv); }, 1);
    setTimeout(() => console.log("late timer ran"), 60000);
    await sleep(40);
    return Response.json({ order, ticks, waited: Date.now() - t0 >= 40 });
  },
};`)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	for i := 0; i < 2; i++ {
		start := time.Now()
		status, out, err := invoke(t, m, env, head("GET", "/"), "")
		if err != nil || status != 200 || out != `{"order":["a","b","c"],"ticks":3,"waited":true}` {
			t.Fatalf("request %d: %d %q %v; logs:\n%s", i, status, out, err, logs)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Fatalf("request %d waited for the dropped timer: %v", i, d)
		}
	}
	if strings.Contains(logs.String(), "late timer ran") {
		t.Fatalf("a timer past the response ran:\n%s", logs)
	}
}

// TestResponseHelpers: Response.json, Response.redirect (and its status
// check), arrayBuffer and bytes.
func TestResponseHelpers(t *testing.T) {
	e := newEngine(t)
	logs := &logSink{}
	env := runtime.NewEnv("resp", nil, runtime.Limits{})
	env.Logs = logs
	m, err := deploy(t, e, env, `
function check(what, got, want) {
  if (got !== want) throw new Error(what + ": got " + JSON.stringify(got) + ", want " + JSON.stringify(want));
}
export default {
  async fetch(request) {
    const j = Response.json({ a: 1 }, { status: 202, headers: { "x-k": "v" } });
    check("json status", j.status, 202);
    check("json type", j.headers.get("content-type"), "application/json");
    check("json body", await j.text(), '{"a":1}');
    let bad = "";
    try { Response.redirect("https://x.test/", 200); } catch (e) { bad = e.name; }
    check("redirect status", bad, "RangeError");
    check("redirect default", Response.redirect("https://x.test/a").status, 302);
    const ab = await new Response(new Uint8Array([104, 105])).arrayBuffer();
    check("arrayBuffer", ab instanceof ArrayBuffer && new TextDecoder().decode(ab), "hi");
    check("bytes", (await new Response("héllo").bytes()).length, 6);
    const body = await request.arrayBuffer();
    check("request arrayBuffer", new Uint8Array(body)[0], 0xff);
    return Response.redirect(new URL("/next", request.url), 307);
  },
};`)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	c := runtime.NewCall()
	defer c.Release()
	c.Env = env
	c.Head = head("POST", "/from")
	c.Body = []byte{0xff, 0x00}
	if err := m.Invoke(c); err != nil || c.Status != 307 {
		t.Fatalf("got %d %v; logs:\n%s", c.Status, err, logs)
	}
	if !strings.Contains(string(c.Headers), "http://example.test/next") {
		t.Fatalf("Location missing from %q", c.Headers)
	}
}

// TestWaitUntil: work handed to ctx.waitUntil finishes before the
// invocation ends (here, a timer that logs), and a rejected waitUntil
// promise is logged without failing the response.
func TestWaitUntil(t *testing.T) {
	e := newEngine(t)
	logs := &logSink{}
	env := runtime.NewEnv("wait", nil, runtime.Limits{})
	env.Logs = logs
	m, err := deploy(t, e, env, `
export default {
  async fetch(request, env, ctx) {
    ctx.waitUntil(new Promise((resolve) => setTimeout(() => { console.log("background work done"); resolve(); }, 20)));
    ctx.waitUntil(Promise.reject(new Error("background failure")));
    return new Response("answered");
  },
};`)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	status, out, err := invoke(t, m, env, head("GET", "/"), "")
	if err != nil || status != 200 || out != "answered" {
		t.Fatalf("got %d %q %v; logs:\n%s", status, out, err, logs)
	}
	l := logs.String()
	if !strings.Contains(l, "background work done") || !strings.Contains(l, "waitUntil: Error: background failure") {
		t.Fatalf("logs lack the waitUntil work or its failure:\n%s", l)
	}
}

// TestUnhandledRejectionLogged: a promise rejected with no handler is
// logged as "Uncaught (in promise)" with its stack; one handled later in
// the request is not; the response stands.
func TestUnhandledRejectionLogged(t *testing.T) {
	e := newEngine(t)
	logs := &logSink{}
	env := runtime.NewEnv("reject", nil, runtime.Limits{})
	env.Logs = logs
	m, err := deploy(t, e, env, `
async function forgotten() {
  throw new RangeError("nobody awaited me");
}
export default {
  async fetch() {
    forgotten();
    const later = Promise.reject(new Error("handled later"));
    await null;
    later.catch(() => {});
    return new Response("still answered");
  },
};`)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	status, out, err := invoke(t, m, env, head("GET", "/"), "")
	if err != nil || status != 200 || out != "still answered" {
		t.Fatalf("got %d %q %v; logs:\n%s", status, out, err, logs)
	}
	l := logs.String()
	if !strings.Contains(l, "Uncaught (in promise) RangeError: nobody awaited me") || !strings.Contains(l, "worker.js:3") {
		t.Fatalf("logs lack the unhandled rejection and its stack:\n%s", l)
	}
	if strings.Contains(l, "handled later") {
		t.Fatalf("a rejection handled later was logged:\n%s", l)
	}
}
