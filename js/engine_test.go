package js_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/js"
	"github.com/wedge-run/wedge/runtime"
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
