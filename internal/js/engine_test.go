package js_test

import (
	"errors"
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
