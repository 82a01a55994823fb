package js_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestCompatibilityScripts deploys the scripts of testdata/compat,
// written in the style of the Workers documentation's examples and run
// unchanged but for the bindings' names, on one node, and checks what
// each answers or does. docs/javascript.md lists them.
func TestCompatibilityScripts(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/users/1" || r.Header.Get("Accept") != "application/json" {
			http.Error(w, "no", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":1,"name":"Ada","email":"ada@example.test"}`))
	}))
	defer api.Close()
	n := testutil.StartNode(t, "")
	deploy := func(file string, o client.DeployOptions) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", "compat", file))
		if err != nil {
			t.Fatal(err)
		}
		deployJS(t, n, strings.TrimSuffix(file, ".js"), string(b), o)
	}
	routes := func(r ...string) client.DeployOptions { return client.DeployOptions{Routes: r} }
	deploy("hello.js", routes("/hello"))
	deploy("router.js", routes("/api/..."))
	deploy("redirect.js", routes("/redirect"))
	deploy("cookies.js", routes("/cookies"))
	deploy("kv-counter.js", routes("/counter"))
	deploy("cors.js", routes("/cors"))
	deploy("html.js", routes("/html"))
	deploy("post.js", routes("/post"))
	deploy("fallback.js", routes("/pages/..."))
	deploy("encoding.js", routes("/encoding"))
	deploy("proxy.js", client.DeployOptions{Routes: []string{"/proxy"}, Config: map[string]string{"API_URL": api.URL}, AllowedHosts: []string{api.URL}})
	deploy("scheduled.js", client.DeployOptions{Triggers: []string{`{"kind":"schedule","cron":"* * * * * *"}`}})
	deploy("queue.js", client.DeployOptions{Triggers: []string{`{"kind":"queue","queue":"orders"}`}})

	pub := n.PublicURL()
	do := func(method, path, body string, hdr map[string]string) testutil.Response {
		t.Helper()
		var r *strings.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		if r == nil {
			return testutil.Do(t, method, pub+path, nil, hdr)
		}
		return testutil.Do(t, method, pub+path, r, hdr)
	}
	expect := func(what string, r testutil.Response, status int, body string) {
		t.Helper()
		if r.Status != status || r.Body != body {
			t.Errorf("%s: %d %q, want %d %q", what, r.Status, r.Body, status, body)
		}
	}

	expect("hello", do("GET", "/hello", "", nil), 200, "Hello World!")

	expect("router list", do("GET", "/api/todos", "", nil), 200, `[{"id":1,"title":"read the docs","done":true},{"id":2,"title":"deploy a worker","done":false}]`)
	expect("router item", do("GET", "/api/todos/2", "", nil), 200, `{"id":2,"title":"deploy a worker","done":false}`)
	expect("router missing item", do("GET", "/api/todos/9", "", nil), 404, `{"error":"no todo 9"}`)
	expect("router create", do("POST", "/api/todos", `{"title":"x","done":false}`, map[string]string{"Content-Type": "application/json"}), 201, `{"id":3,"title":"x","done":false}`)
	expect("router unknown", do("GET", "/api/nope", "", nil), 404, `{"error":"not found"}`)

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if res, err := noFollow.Get(pub + "/redirect"); err != nil {
		t.Errorf("redirect: %v", err)
	} else if res.Body.Close(); res.StatusCode != 301 || res.Header.Get("Location") != "https://example.com/" {
		t.Errorf("redirect: %d %v", res.StatusCode, res.Header)
	}

	r := do("GET", "/cookies", "", nil)
	m := regexp.MustCompile(`^__uid=([0-9a-f-]{36}); Path=/; HttpOnly; SameSite=Lax$`).FindStringSubmatch(r.Header.Get("Set-Cookie"))
	if r.Status != 200 || r.Body != "Hello, new visitor" || m == nil {
		t.Errorf("cookies, first visit: %d %q %q", r.Status, r.Body, r.Header.Get("Set-Cookie"))
	} else {
		expect("cookies, return", do("GET", "/cookies", "", map[string]string{"Cookie": "theme=dark; __uid=" + m[1]}), 200, "Welcome back, "+m[1])
	}

	for _, want := range []string{"Visits: 1", "Visits: 2", "Visits: 3"} {
		expect("kv counter", do("GET", "/counter", "", nil), 200, want)
	}

	r = do("OPTIONS", "/cors", "", map[string]string{"Origin": "https://a.test", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Access-Control-Allow-Headers") != "content-type" || r.Header.Get("Access-Control-Max-Age") != "86400" {
		t.Errorf("cors preflight: %d %v", r.Status, r.Header)
	}
	r = do("GET", "/cors", "", map[string]string{"Origin": "https://a.test"})
	if r.Status != 200 || r.Body != `{"message":"hello"}` || r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Vary") != "Origin" {
		t.Errorf("cors GET: %d %q %v", r.Status, r.Body, r.Header)
	}

	r = do("GET", "/html", "", nil)
	if r.Status != 200 || !strings.Contains(r.Body, "<h1>Hello World</h1>") || r.Header.Get("Content-Type") != "text/html;charset=UTF-8" {
		t.Errorf("html: %d %q %v", r.Status, r.Body, r.Header)
	}

	expect("post json", do("POST", "/post", `{"a": [1, 2]}`, map[string]string{"Content-Type": "application/json"}), 200, `The request body sent in was {"a":[1,2]}`)
	expect("post form", do("POST", "/post", "name=Ada+L&lang=js", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), 200, `The request body sent in was {"name":"Ada L","lang":"js"}`)
	expect("post text", do("POST", "/post", "plain words", map[string]string{"Content-Type": "application/text"}), 200, "The request body sent in was plain words")

	expect("fallback page", do("GET", "/pages/about", "", nil), 200, "about us")
	expect("fallback 404", do("GET", "/pages/missing", "", nil), 404, "Not found: /pages/missing")

	r = do("GET", "/encoding?text=h%C3%A9llo", "", nil)
	var enc struct {
		Base64    string `json:"base64"`
		RoundTrip bool   `json:"roundTrip"`
		NonceHex  string `json:"nonceHex"`
		ID        string `json:"id"`
	}
	if err := json.Unmarshal([]byte(r.Body), &enc); err != nil || enc.Base64 != "aMOpbGxv" || !enc.RoundTrip || len(enc.NonceHex) != 32 || len(enc.ID) != 36 {
		t.Errorf("encoding: %d %q %v", r.Status, r.Body, err)
	}

	expect("proxy", do("GET", "/proxy", "", nil), 200, `{"name":"Ada","via":"wedge"}`)

	kv := func(ns, key string) string {
		e, err := n.KV.Get(ns, key)
		if err != nil {
			return ""
		}
		return string(e.Value)
	}
	// The handler writes "runs", then "last-cron": wait for the second.
	testutil.Eventually(t, 15*time.Second, "the scheduled handler's run", func() bool { return kv("scheduled", "last-cron") != "" })
	if got := kv("scheduled", "runs"); got == "" {
		t.Errorf("scheduled: no runs counted")
	}
	if got := kv("scheduled", "last-cron"); got != "* * * * * *" {
		t.Errorf("scheduled: last-cron %q", got)
	}

	if _, err := n.Events.Publish("orders", []byte(`{"order":"A-17","total":42.5}`)); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "the queue consumer", func() bool { return kv("queue", "order/A-17") != "" })
	if got := kv("queue", "order/A-17"); got != `{"queue":"orders","total":42.5}` {
		t.Errorf("queue: %q", got)
	}
}
