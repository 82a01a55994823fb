package js_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/manifest"
)

// These tests deploy scripts to a real node through its admin API and
// call them through its public gateway.

// putScript deploys script as name on route with a raw admin request
// (Content-Type: application/javascript), as curl would.
func putScript(t testing.TB, n *node.Node, name, route, script string) testutil.Response {
	t.Helper()
	return testutil.Do(t, "PUT", n.AdminURL()+"/v1/functions/"+name+"?route="+route, strings.NewReader(script),
		map[string]string{"Authorization": "Bearer " + testutil.Token, "Content-Type": "application/javascript"})
}

func logsOf(t *testing.T, n *node.Node, name string) string {
	t.Helper()
	var b strings.Builder
	err := testutil.Client(n).Logs(context.Background(), name, 1000, false, func(e client.LogEntry) {
		b.WriteString(e.Level + " " + e.Message + "\n")
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestNodeServesJavaScript(t *testing.T) {
	n := testutil.StartNode(t, "")

	// hello, with a global counter that must read 1 in every request.
	res := putScript(t, n, "hello", "/hello", `
let count = 0;
export default {
  async fetch(request, env) {
    count++;
    console.log("hello called", count);
    return new Response("hello " + count + " from " + new globalThis.Request(request).method);
  },
};`)
	if res.Status != 201 {
		t.Fatalf("deploy: %d %s", res.Status, res.Body)
	}
	var f struct {
		SHA256   string `json:"sha256"`
		Snapshot *struct {
			SHA256 string `json:"sha256"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal([]byte(res.Body), &f); err != nil || f.Snapshot == nil {
		t.Fatalf("deploy answer has no snapshot: %s (%v)", res.Body, err)
	}
	for i := 0; i < 2; i++ {
		got := testutil.Get(t, n.PublicURL()+"/hello")
		if got.Status != 200 || got.Body != "hello 1 from GET" || !strings.HasPrefix(got.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("request %d: %d %q %v", i, got.Status, got.Body, got.Header)
		}
	}
	testutil.Eventually(t, 10*time.Second, "console.log in the function's logs", func() bool {
		return strings.Count(logsOf(t, n, "hello"), "hello called 1") == 2
	})

	// A JSON API that reads a POSTed JSON body and env vars, deployed
	// with the Go client.
	_, created, err := testutil.Client(n).Deploy(context.Background(), "api", []byte(`
export default {
  async fetch(request, env) {
    if (request.method !== "POST") return new Response("use POST", { status: 405 });
    const { a, b } = await request.json();
    return Response.json({ sum: a + b, mode: env.MODE }, { headers: { "X-Sum": String(a + b) } });
  },
};`), client.DeployOptions{Routes: []string{"/api"}, Config: map[string]string{"MODE": "test"}, JavaScript: true})
	if err != nil || !created {
		t.Fatalf("deploy api: %v", err)
	}
	got := testutil.Do(t, "POST", n.PublicURL()+"/api", strings.NewReader(`{"a": 2, "b": 40}`), map[string]string{"Content-Type": "application/json"})
	if got.Status != 200 || got.Body != `{"sum":42,"mode":"test"}` || got.Header.Get("Content-Type") != "application/json" || got.Header.Get("X-Sum") != "42" {
		t.Fatalf("api: %d %q %v", got.Status, got.Body, got.Header)
	}
	if got := testutil.Get(t, n.PublicURL()+"/api"); got.Status != 405 || got.Body != "use POST" {
		t.Fatalf("api GET: %d %q", got.Status, got.Body)
	}

	// An uncaught exception: 500, and the stack, with script lines, in the logs.
	if res := putScript(t, n, "boom", "/boom", "function inner() {\n  throw new TypeError(\"no such thing\");\n}\nexport default { fetch() { inner(); } };\n"); res.Status != 201 {
		t.Fatalf("deploy boom: %d %s", res.Status, res.Body)
	}
	if got := testutil.Get(t, n.PublicURL()+"/boom"); got.Status != 500 || !strings.Contains(got.Body, "boom") {
		t.Fatalf("boom: %d %q", got.Status, got.Body)
	}
	testutil.Eventually(t, 10*time.Second, "the exception's stack in the logs", func() bool {
		l := logsOf(t, n, "boom")
		return strings.Contains(l, "TypeError: no such thing") && strings.Contains(l, "worker.js:2")
	})
}

func TestNodeRefusesBadScripts(t *testing.T) {
	n := testutil.StartNode(t, "")
	cases := []struct {
		name, script string
		want         []string
	}{
		{"syntax", "export default {\n  fetch(request) {\n    return new Response(\"x\";\n  },\n};\n", []string{"SyntaxError", "worker.js:3:"}},
		{"throws", "throw new Error(\"top-level failure\");\n", []string{"top-level failure", "worker.js:1"}},
		{"nohandler", "export default { notAHandler() {} };\n", []string{"fetch"}},
		{"empty", "", []string{"empty"}},
	}
	for _, c := range cases {
		res := putScript(t, n, c.name, "/"+c.name, c.script)
		if res.Status != 400 {
			t.Errorf("%s: status %d, want 400: %s", c.name, res.Status, res.Body)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(res.Body, w) {
				t.Errorf("%s: answer lacks %q: %s", c.name, w, res.Body)
			}
		}
		if got := testutil.Get(t, n.PublicURL()+"/"+c.name); got.Status != 404 {
			t.Errorf("%s: a refused script is served: %d", c.name, got.Status)
		}
	}
	// The client sees the same 400 as an API error with its code.
	_, _, err := testutil.Client(n).Deploy(context.Background(), "syntax", []byte("export default {"), client.DeployOptions{Routes: []string{"/s"}, JavaScript: true})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "invalid_script" {
		t.Fatalf("client deploy of a bad script: %v", err)
	}
}

// TestAppWithScript: `module = "worker.js"` in wedge.toml deploys the
// script as a JavaScript function; deploying it again unchanged keeps
// its version.
func TestAppWithScript(t *testing.T) {
	n := testutil.StartNode(t, "")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "wedge.toml"), []byte("[app]\nname = \"site\"\n\n[functions.page]\nmodule = \"worker.js\"\nroutes = [\"/site/...\"]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "worker.js"), []byte(`export default {
  fetch(request) {
    return new Response("<h1>" + new URL(request.url).pathname + "</h1>", { headers: { "content-type": "text/html" } });
  },
};
`), 0o644)
	deployApp := func() []client.AppChange {
		app, err := manifest.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Check(); err != nil {
			t.Fatal(err)
		}
		spec, err := app.Spec()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(app.ModulePath(&app.Functions[0]))
		if err != nil {
			t.Fatal(err)
		}
		changes, err := testutil.Client(n).DeployApp(context.Background(), app.Name, spec, map[string][]byte{"page": b})
		if err != nil {
			t.Fatal(err)
		}
		return changes
	}
	if c := deployApp(); len(c) != 1 || c[0].Action != "created" {
		t.Fatalf("first deploy: %+v", c)
	}
	got := testutil.Get(t, n.PublicURL()+"/site/about")
	if got.Status != 200 || got.Body != "<h1>/site/about</h1>" || got.Header.Get("Content-Type") != "text/html" {
		t.Fatalf("GET: %d %q %v", got.Status, got.Body, got.Header)
	}
	if c := deployApp(); len(c) != 1 || c[0].Action != "unchanged" {
		t.Fatalf("second deploy: %+v", c)
	}
}
