package console_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/console"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

// consoleCall is a request the console's script makes.
type consoleCall struct {
	method, path string
	changes      bool // state-changing: needs the CSRF header
}

// consoleCalls lists every endpoint console.js calls.
var consoleCalls = []consoleCall{
	{"GET", "/console/session", false},
	{"DELETE", "/console/session", true},
	{"GET", "/v1/functions", false},
	{"GET", "/v1/functions/hello", false},
	{"PUT", "/v1/functions/made-up?route=/made-up", true},
	{"DELETE", "/v1/functions/hello", true},
	{"GET", "/v1/functions/hello/logs?follow=1&limit=100", false},
	{"GET", "/v1/functions/hello/versions", false},
	{"POST", "/v1/functions/hello/rollback?version=1", true},
	{"GET", "/v1/console/history/hello", false},
	{"GET", "/v1/kv", false},
	{"GET", "/v1/kv/notes?prefix=&limit=100", false},
	{"GET", "/v1/kv/notes/greeting", false},
	{"PUT", "/v1/kv/notes/greeting?ttl=60", true},
	{"DELETE", "/v1/kv/notes/greeting", true},
	{"GET", "/v1/console/events", false},
	{"GET", "/v1/queues/jobs/dead", false},
	{"POST", "/v1/queues/jobs/dead/replay", true},
	{"POST", "/v1/queues/jobs/dead/replay?id=1", true},
	{"GET", "/v1/buckets/photos", false},
	{"GET", "/v1/cluster/members", false},
	{"GET", "/v1/console/affinity", false},
	{"GET", "/v1/console/affinity?function=hello&key=k", false},
	{"GET", "/v1/traces", false},
	{"GET", "/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736", false},
}

const helloWAT = `(module
  (memory (export "memory") 1)
  (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`

func setup(t *testing.T) (*node.Node, *client.Client) {
	t.Helper()
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	ctx := context.Background()
	if _, _, err := cl.Deploy(ctx, "hello", testutil.WAT(t, helloWAT), client.DeployOptions{Routes: []string{"/hello"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.KVPut(ctx, "notes", "greeting", []byte("hi"), client.KVPutOptions{}); err != nil {
		t.Fatal(err)
	}
	return n, cl
}

// signIn exchanges the admin token for a session and returns its cookie.
func signIn(t *testing.T, n *node.Node) *http.Cookie {
	t.Helper()
	res := testutil.Do(t, "POST", n.AdminURL()+"/console/session", strings.NewReader(`{"token":"`+testutil.Token+`"}`),
		map[string]string{"X-Wedge-Console": "1", "Content-Type": "application/json"})
	if res.Status != 200 {
		t.Fatalf("sign-in: %d %s", res.Status, res.Body)
	}
	cookies := (&http.Response{Header: res.Header}).Cookies()
	if len(cookies) != 1 || cookies[0].Value == "" {
		t.Fatalf("sign-in set cookies %v; want one session cookie", res.Header.Values("Set-Cookie"))
	}
	return cookies[0]
}

func call(t *testing.T, n *node.Node, c consoleCall, hdr map[string]string) testutil.Response {
	t.Helper()
	var body *strings.Reader
	if c.method == "PUT" {
		body = strings.NewReader("changed")
	} else {
		body = strings.NewReader("")
	}
	return testutil.Do(t, c.method, n.AdminURL()+c.path, body, hdr)
}

// TestConsoleAPIRefusesWithoutSession: every endpoint the console calls
// answers 401 without credentials, with a cookie that is no session, and
// (for a change) with a session but no CSRF header; nothing changes.
func TestConsoleAPIRefusesWithoutSession(t *testing.T) {
	n, cl := setup(t)
	session := signIn(t, n)
	cases := map[string]func(consoleCall) map[string]string{
		"no credentials": func(consoleCall) map[string]string { return nil },
		"a forged cookie": func(consoleCall) map[string]string {
			return map[string]string{"Cookie": session.Name + "=" + strings.Repeat("0", 64), "X-Wedge-Console": "1"}
		},
		"a wrong bearer token": func(consoleCall) map[string]string {
			return map[string]string{"Authorization": "Bearer nope", "X-Wedge-Console": "1"}
		},
	}
	for what, hdr := range cases {
		for _, c := range consoleCalls {
			if res := call(t, n, c, hdr(c)); res.Status != 401 {
				t.Errorf("%s: %s %s: %d %s; want 401", what, c.method, c.path, res.Status, res.Body)
			}
		}
	}
	// A session without the CSRF header: reads pass, changes are refused.
	for _, c := range consoleCalls {
		if strings.Contains(c.path, "follow=1") {
			continue // streams until the node closes
		}
		res := call(t, n, c, map[string]string{"Cookie": session.Name + "=" + session.Value})
		if c.changes && res.Status != 401 {
			t.Errorf("session without %s: %s %s: %d; want 401", "X-Wedge-Console", c.method, c.path, res.Status)
		}
		if !c.changes && res.Status == 401 {
			t.Errorf("session: %s %s: 401; a read needs no CSRF header", c.method, c.path)
		}
	}
	// Nothing changed.
	v, _, err := cl.KVGet(context.Background(), "notes", "greeting")
	if err != nil || string(v) != "hi" {
		t.Fatalf("notes/greeting is %q (%v) after refused writes; want hi", v, err)
	}
	if _, err := cl.Get(context.Background(), "hello"); err != nil {
		t.Fatalf("hello after refused deletes: %v", err)
	}
	if _, err := cl.Get(context.Background(), "made-up"); err == nil {
		t.Fatal("a refused deploy deployed")
	}
}

// TestConsoleSessionActsAsTheToken: a signed-in browser reads and changes
// through the admin API with its cookie and the CSRF header; sign-out
// revokes the session on the server (the old cookie is refused).
func TestConsoleSessionActsAsTheToken(t *testing.T) {
	n, cl := setup(t)
	session := signIn(t, n)
	cookie := session.Name + "=" + session.Value
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || session.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP", session)
	}
	if strings.Contains(session.Value, testutil.Token) {
		t.Error("the session cookie holds the token")
	}
	with := map[string]string{"Cookie": cookie, "X-Wedge-Console": "1"}
	if res := testutil.Do(t, "GET", n.AdminURL()+"/v1/functions", nil, with); res.Status != 200 || !strings.Contains(res.Body, `"hello"`) {
		t.Fatalf("list with the session: %d %s", res.Status, res.Body)
	}
	if res := testutil.Do(t, "PUT", n.AdminURL()+"/v1/kv/notes/greeting?ttl=60", strings.NewReader("edited"), with); res.Status != 200 {
		t.Fatalf("kv put with the session: %d %s", res.Status, res.Body)
	}
	if v, _, _ := cl.KVGet(context.Background(), "notes", "greeting"); string(v) != "edited" {
		t.Fatalf("notes/greeting = %q; want edited", v)
	}
	// The audit log records the change as the admin token's.
	audit := testutil.Do(t, "GET", n.AdminURL()+"/v1/audit?token=admin", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	if audit.Status != 200 || !strings.Contains(audit.Body, "/v1/kv/notes/greeting") {
		t.Errorf("audit of the admin token: %d %s; want the session's PUT", audit.Status, audit.Body)
	}
	for _, p := range []string{"/v1/console/events", "/v1/console/history/hello", "/v1/console/affinity"} {
		if res := testutil.Do(t, "GET", n.AdminURL()+p, nil, with); res.Status != 200 {
			t.Errorf("GET %s: %d %s", p, res.Status, res.Body)
		}
	}
	if res := testutil.Do(t, "GET", n.AdminURL()+"/console/session", nil, with); res.Status != 200 {
		t.Fatalf("session status: %d %s", res.Status, res.Body)
	}
	// Sign-out needs the CSRF header too, then the cookie is worthless.
	if res := testutil.Do(t, "DELETE", n.AdminURL()+"/console/session", nil, map[string]string{"Cookie": cookie}); res.Status != 401 {
		t.Fatalf("sign-out without the CSRF header: %d", res.Status)
	}
	res := testutil.Do(t, "DELETE", n.AdminURL()+"/console/session", nil, with)
	if res.Status != 200 {
		t.Fatalf("sign-out: %d %s", res.Status, res.Body)
	}
	if c := (&http.Response{Header: res.Header}).Cookies(); len(c) != 1 || c[0].Value != "" || c[0].MaxAge >= 0 && c[0].Expires.Unix() > 0 {
		t.Errorf("sign-out cookies %v; want the cookie cleared", res.Header.Values("Set-Cookie"))
	}
	for _, p := range []string{"/v1/functions", "/console/session"} {
		if res := testutil.Do(t, "GET", n.AdminURL()+p, nil, with); res.Status != 401 {
			t.Errorf("GET %s with a signed-out cookie: %d; want 401", p, res.Status)
		}
	}
}

func TestConsoleSignIn(t *testing.T) {
	n := testutil.StartNode(t, "")
	post := func(body string, hdr map[string]string) testutil.Response {
		return testutil.Do(t, "POST", n.AdminURL()+"/console/session", strings.NewReader(body), hdr)
	}
	csrf := map[string]string{"X-Wedge-Console": "1"}
	if res := post(`{"token":"wrong"}`, csrf); res.Status != 401 || res.Header.Get("Set-Cookie") != "" {
		t.Errorf("a wrong token: %d, cookie %q; want 401 and no cookie", res.Status, res.Header.Get("Set-Cookie"))
	}
	if res := post(`{"token":""}`, csrf); res.Status != 401 {
		t.Errorf("an empty token: %d; want 401", res.Status)
	}
	// A form posted from another site cannot set the header.
	if res := post(`{"token":"`+testutil.Token+`"}`, nil); res.Status != 403 || res.Header.Get("Set-Cookie") != "" {
		t.Errorf("no CSRF header: %d; want 403 and no cookie", res.Status)
	}
	if res := post(`token=`+testutil.Token, csrf); res.Status != 400 {
		t.Errorf("a form body: %d; want 400", res.Status)
	}
}

// TestConsolePageHeaders: the page and its files come with the strict
// CSP and no framing; the page is the sign-in form (no auth needed).
func TestConsolePageHeaders(t *testing.T) {
	n := testutil.StartNode(t, "")
	for _, p := range []string{"/console", "/console/", "/console/console.js", "/console/console.css", "/console/session"} {
		res := testutil.Get(t, n.AdminURL()+p)
		if got := res.Header.Get("Content-Security-Policy"); got != console.CSP {
			t.Errorf("%s: CSP %q", p, got)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, res.Header)
		}
	}
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
		"require-trusted-types-for 'script'"} {
		if !strings.Contains(console.CSP, want) {
			t.Errorf("CSP lacks %s", want)
		}
	}
	res := testutil.Get(t, n.AdminURL()+"/console/")
	if res.Status != 200 || !strings.Contains(res.Body, `id="sign-in-form"`) || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s %q", res.Status, res.Header.Get("Content-Type"), res.Body[:min(len(res.Body), 200)])
	}
	if res := testutil.Get(t, n.AdminURL()+"/console/console.js"); !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
		t.Errorf("script served as %q", res.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/console/nope.js", "/console/static/index.html"} {
		if res := testutil.Get(t, n.AdminURL()+p); res.Status != 404 {
			t.Errorf("%s: %d; want 404", p, res.Status)
		}
	}
}

// TestConsoleAffinityInACluster: on a two-node cluster, the console's
// ownership view lists both nodes as serving a function with affinity,
// and both nodes name the same owner for a key, each owning some keys.
func TestConsoleAffinityInACluster(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	start := func(name string, join *node.Node) *node.Node {
		return testutil.StartNode(t, "", func(c *node.Config) {
			c.NodeName, c.GossipAddr, c.ClusterPreset, c.ClusterKey = name, "127.0.0.1:0", "local", key
			if join != nil {
				c.Join = []string{join.Cluster.Addr()}
			}
		})
	}
	n1 := start("n1", nil)
	n2 := start("n2", n1)
	if _, _, err := testutil.Client(n1).Deploy(context.Background(), "rooms", testutil.WAT(t, helloWAT),
		client.DeployOptions{Routes: []string{"/rooms/..."}, Affinity: "/rooms/*"}); err != nil {
		t.Fatal(err)
	}
	bearer := map[string]string{"Authorization": "Bearer " + testutil.Token}
	type view struct {
		Functions []console.Affinity    `json:"functions"`
		Owner     struct{ Node string } `json:"owner"`
	}
	get := func(n *node.Node, q string) view {
		res := testutil.Do(t, "GET", n.AdminURL()+"/v1/console/affinity"+q, nil, bearer)
		var v view
		if res.Status != 200 || json.Unmarshal([]byte(res.Body), &v) != nil {
			t.Fatalf("affinity%s: %d %s", q, res.Status, res.Body)
		}
		return v
	}
	for _, n := range []*node.Node{n1, n2} {
		testutil.Eventually(t, 15*time.Second, n.Config.NodeName+" to list both nodes serving rooms", func() bool {
			v := get(n, "")
			return len(v.Functions) == 1 && v.Functions[0].Pattern == "/rooms/*" && slices.Equal(v.Functions[0].Serving, []string{"n1", "n2"})
		})
	}
	// Owners settle once both nodes are past their settle time.
	owners := map[string]int{}
	testutil.Eventually(t, 15*time.Second, "both nodes to agree on every key's owner, each owning some", func() bool {
		clear(owners)
		for i := range 40 {
			q := fmt.Sprintf("?function=rooms&key=k%d", i)
			a, b := get(n1, q).Owner.Node, get(n2, q).Owner.Node
			if a != b {
				return false
			}
			owners[a]++
		}
		return owners["n1"] > 0 && owners["n2"] > 0
	})
	if res := testutil.Do(t, "GET", n1.AdminURL()+"/v1/console/affinity?function=nope&key=k", nil, bearer); res.Status != 404 {
		t.Errorf("the owner of a key of no function: %d; want 404", res.Status)
	}
}

// TestConsoleCallsCoverTheScript: every api(...) call in console.js is in
// consoleCalls, so the 401 test above covers what the page really calls.
// Sign-in (POST /console/session) is the one call made without a
// session; TestConsoleSignIn covers it.
func TestConsoleCallsCoverTheScript(t *testing.T) {
	js, err := os.ReadFile("static/console.js")
	if err != nil {
		t.Fatal(err)
	}
	calls := regexp.MustCompile(`api\('([A-Z]+)', '(/[^'?]*)`).FindAllStringSubmatch(string(js), -1)
	if len(calls) < 15 {
		t.Fatalf("found %d api calls in console.js; the pattern no longer matches the script", len(calls))
	}
	for _, m := range calls {
		method, prefix := m[1], m[2]
		if method == "POST" && prefix == "/console/session" {
			continue
		}
		covered := false
		for _, c := range consoleCalls {
			covered = covered || c.method == method && strings.HasPrefix(c.path, prefix)
		}
		if !covered {
			t.Errorf("console.js calls %s %s..., which consoleCalls does not test", method, prefix)
		}
	}
}

// helloScript is a JavaScript function's script.
const helloScript = `export default {
  async fetch(request) {
    return new Response("hello from JavaScript\n");
  },
};
`

// cgiWAT is the smallest WASI command: served CGI-style.
const cgiWAT = `(module (memory (export "memory") 1) (func (export "_start")))`

// TestFunctionKindsInTheAdminAPI: the admin API names what a function
// is (a JavaScript function is "js", with its script's size and hash,
// not the "native" entry of the engine it runs on), in the list, the
// function and its versions.
func TestFunctionKindsInTheAdminAPI(t *testing.T) {
	n, cl := setup(t)
	ctx := context.Background()
	if _, _, err := cl.Deploy(ctx, "cgi", testutil.WAT(t, cgiWAT), client.DeployOptions{Routes: []string{"/cgi"}}); err != nil {
		t.Fatal(err)
	}
	js, _, err := cl.Deploy(ctx, "worker", []byte(helloScript), client.DeployOptions{Routes: []string{"/worker"}, JavaScript: true})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(helloScript))
	wantScript := model.Script{Bytes: len(helloScript), SHA256: hex.EncodeToString(sum[:])}
	if js.Kind != model.KindJS || js.Script == nil || *js.Script != wantScript || js.Size <= len(helloScript) {
		t.Fatalf("the deploy's answer: kind %q, script %+v, size %d; want js, %+v, the engine's size", js.Kind, js.Script, js.Size, wantScript)
	}
	fns, err := cl.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, f := range fns {
		kinds[f.Name] = f.Kind
		if (f.Script != nil) != (f.Name == "worker") {
			t.Errorf("%s: script %+v", f.Name, f.Script)
		}
	}
	if want := map[string]string{"hello": "native", "cgi": "cgi", "worker": "js"}; !maps.Equal(kinds, want) {
		t.Fatalf("kinds %v; want %v", kinds, want)
	}
	if f, err := cl.Get(ctx, "worker"); err != nil || f.Kind != "js" || f.Script == nil || *f.Script != wantScript {
		t.Fatalf("GET worker: %+v, %v", f, err)
	}
	res := testutil.Do(t, "GET", n.AdminURL()+"/v1/functions/worker/versions", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	if res.Status != 200 || !strings.Contains(res.Body, `"kind": "js"`) || !strings.Contains(res.Body, fmt.Sprintf(`"bytes": %d`, len(helloScript))) {
		t.Fatalf("versions of worker: %d %s", res.Status, res.Body)
	}
}

// eventWAT answers requests and events (a queue consumer or a schedule).
const eventWAT = `(module
  (memory (export "memory") 1)
  (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0))
  (func (export "wedge_event") (param i32) (result i32) (i32.const 0)))`

// signInAs signs in on n with secret and returns the session's headers
// (cookie and CSRF header).
func signInAs(t *testing.T, n *node.Node, secret string) map[string]string {
	t.Helper()
	res := testutil.Do(t, "POST", n.AdminURL()+"/console/session", strings.NewReader(`{"token":"`+secret+`"}`),
		map[string]string{"X-Wedge-Console": "1", "Content-Type": "application/json"})
	if res.Status != 200 {
		t.Fatalf("sign-in on %s: %d %s", n.Config.NodeName, res.Status, res.Body)
	}
	cookies := (&http.Response{Header: res.Header}).Cookies()
	if len(cookies) != 1 {
		t.Fatalf("sign-in set cookies %v", res.Header.Values("Set-Cookie"))
	}
	return map[string]string{"Cookie": cookies[0].Name + "=" + cookies[0].Value, "X-Wedge-Console": "1"}
}

// TestConsoleScopedTokens: a token made with `wedge tokens create` signs
// in, and its session is held to the token's scope and functions
// pattern, through the admin API and the console's own endpoints; a
// revoked token's sessions end.
func TestConsoleScopedTokens(t *testing.T) {
	n, cl := setup(t)
	ctx := context.Background()
	for _, d := range []struct {
		name, queue string
	}{{"chat-room", "chat-jobs"}, {"billing", "invoices"}} {
		if _, _, err := cl.Deploy(ctx, d.name, testutil.WAT(t, eventWAT), client.DeployOptions{
			Routes: []string{"/" + d.name + "/..."}, Affinity: "/" + d.name + "/*",
			Triggers: []string{`{"kind":"queue","queue":"` + d.queue + `"}`, `{"kind":"schedule","cron":"@hourly"}`},
		}); err != nil {
			t.Fatal(err)
		}
	}
	viewer, err := cl.CreateToken(ctx, "viewer", "read", "chat-*")
	if err != nil {
		t.Fatal(err)
	}
	deployer, err := cl.CreateToken(ctx, "deployer", "deploy", "chat-*")
	if err != nil {
		t.Fatal(err)
	}
	kvTok, err := cl.CreateToken(ctx, "notes-editor", "kv", "")
	if err != nil {
		t.Fatal(err)
	}
	type check struct {
		method, path string
		status       int
		body         string // a part of the answer
	}
	wasm := testutil.WAT(t, helloWAT)
	run := func(who string, hdr map[string]string, checks []check) {
		t.Helper()
		for _, c := range checks {
			var body io.Reader
			if c.method == "PUT" {
				body = bytes.NewReader(wasm)
			}
			res := testutil.Do(t, c.method, n.AdminURL()+c.path, body, hdr)
			if res.Status != c.status || !strings.Contains(res.Body, c.body) {
				t.Errorf("%s: %s %s: %d %s; want %d with %q", who, c.method, c.path, res.Status, res.Body, c.status, c.body)
			}
		}
	}

	// A read token for chat-*: it sees chat-* and changes nothing.
	v := signInAs(t, n, viewer.Secret)
	run("viewer", v, []check{
		{"GET", "/console/session", 200, `"scope": "read"`},
		{"GET", "/console/session", 200, `"functions": "chat-*"`},
		{"GET", "/v1/functions/chat-room", 200, `"chat-room"`},
		{"GET", "/v1/functions/billing", 403, `functions matching \"chat-*\"`},
		{"GET", "/v1/console/history/chat-room", 200, `"chat-room"`},
		{"GET", "/v1/console/history/billing", 403, `functions matching \"chat-*\", not \"billing\"`},
		{"GET", "/v1/console/affinity?function=billing&key=k", 403, `not \"billing\"`},
		{"GET", "/v1/console/affinity?function=chat-room&key=k", 200, `"owner"`},
		{"PUT", "/v1/functions/chat-new", 403, "the read scope allows GET only"},
		{"DELETE", "/v1/functions/chat-room", 403, "the read scope allows GET only"},
		{"PUT", "/v1/kv/notes/greeting", 403, "the read scope allows GET only"},
		{"POST", "/v1/queues/chat-jobs/dead/replay", 403, "the read scope allows GET only"},
		{"GET", "/v1/tokens", 403, "needs the admin scope"},
	})
	// The console's lists hold chat-* only.
	var events struct {
		Queues    []struct{ Name string }
		Schedules []struct{ Function string }
	}
	getJSON(t, n, "/v1/console/events", v, &events)
	if len(events.Queues) != 1 || events.Queues[0].Name != "chat-jobs" || len(events.Schedules) != 1 || events.Schedules[0].Function != "chat-room" {
		t.Errorf("the viewer's events: %+v; want chat-room's queue and schedule only", events)
	}
	var aff struct{ Functions []console.Affinity }
	getJSON(t, n, "/v1/console/affinity", v, &aff)
	if len(aff.Functions) != 1 || aff.Functions[0].Function != "chat-room" {
		t.Errorf("the viewer's affinity view: %+v; want chat-room only", aff.Functions)
	}
	// The admin sees both.
	getJSON(t, n, "/v1/console/events", map[string]string{"Authorization": "Bearer " + testutil.Token}, &events)
	if len(events.Queues) != 2 || len(events.Schedules) != 2 {
		t.Errorf("the admin's events: %+v; want both functions'", events)
	}
	// What the session did is audited under the token's name.
	audit := testutil.Do(t, "GET", n.AdminURL()+"/v1/audit?token=viewer", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	if !strings.Contains(audit.Body, `"/v1/functions/chat-new"`) {
		t.Errorf("audit of viewer: %s; want the refused deploy", audit.Body)
	}

	// A deploy token for chat-*: deploys and deletes chat-* only.
	d := signInAs(t, n, deployer.Secret)
	run("deployer", d, []check{
		{"PUT", "/v1/functions/chat-new?route=/chat-new", 201, `"chat-new"`},
		{"DELETE", "/v1/functions/chat-new", 200, ""},
		{"DELETE", "/v1/functions/billing", 403, `not \"billing\"`},
		{"PUT", "/v1/kv/notes/greeting", 403, "the deploy scope allows reads and function or app deploys and deletes only"},
	})
	// A kv token: the KV API only.
	k := signInAs(t, n, kvTok.Secret)
	run("notes-editor", k, []check{
		{"GET", "/v1/kv/notes/greeting", 200, "hi"},
		{"GET", "/v1/functions", 403, "the kv scope allows /v1/kv only"},
		{"GET", "/v1/console/events", 403, "the kv scope allows /v1/kv only"},
	})

	// Revoked: the viewer's session ends at once on this node.
	if err := cl.RevokeToken(ctx, "viewer"); err != nil {
		t.Fatal(err)
	}
	run("revoked viewer", v, []check{
		{"GET", "/console/session", 401, "not signed in"},
		{"GET", "/v1/functions/chat-room", 401, ""},
	})
	// The others are untouched; a revoked secret no longer signs in.
	run("deployer", d, []check{{"GET", "/console/session", 200, `"token": "deployer"`}})
	res := testutil.Do(t, "POST", n.AdminURL()+"/console/session", strings.NewReader(`{"token":"`+viewer.Secret+`"}`), map[string]string{"X-Wedge-Console": "1"})
	if res.Status != 401 {
		t.Errorf("sign-in with a revoked token: %d %s", res.Status, res.Body)
	}
}

func getJSON(t *testing.T, n *node.Node, path string, hdr map[string]string, out any) {
	t.Helper()
	res := testutil.Do(t, "GET", n.AdminURL()+path, nil, hdr)
	if res.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
	}
	if err := json.Unmarshal([]byte(res.Body), out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestConsoleSessionsAcrossTheCluster: a session signed in on one node
// works on every node that accepts its token (sessions replicate through
// KV like the tokens), and a sign-out or a revocation on one node ends
// it on the others; a node with another admin token does not take the
// first node's admin sessions.
func TestConsoleSessionsAcrossTheCluster(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	start := func(name string, join *node.Node, token string) *node.Node {
		return testutil.StartNode(t, "", func(c *node.Config) {
			c.NodeName, c.GossipAddr, c.ClusterPreset, c.ClusterKey = name, "127.0.0.1:0", "local", key
			if token != "" {
				c.AdminToken = token
			}
			if join != nil {
				c.Join = []string{join.Cluster.Addr()}
			}
		})
	}
	n1 := start("n1", nil, "")
	n2 := start("n2", n1, "")
	n3 := start("n3", n1, "another-admin-token-of-n3-only")
	status := func(n *node.Node, hdr map[string]string) int {
		return testutil.Do(t, "GET", n.AdminURL()+"/v1/functions", nil, hdr).Status
	}
	admin := signInAs(t, n1, testutil.Token)
	testutil.Eventually(t, 15*time.Second, "n1's admin session accepted by n2", func() bool { return status(n2, admin) == 200 })
	// n3 replicates the session too, but its admin token is another one.
	testutil.Eventually(t, 15*time.Second, "n1's sessions replicated to n3", func() bool {
		p, err := n3.KV.List(console.SessionsNamespace, kv.ListOptions{})
		return err == nil && len(p.Entries) == 1
	})
	if s := status(n3, admin); s != 401 {
		t.Errorf("n1's admin session on n3 (another admin token): %d; want 401", s)
	}
	// A scoped token (replicated) signs in on n2; its session works on n1
	// and n3.
	tok, err := testutil.Client(n1).CreateToken(context.Background(), "ops", "read", "")
	if err != nil {
		t.Fatal(err)
	}
	var ops map[string]string
	testutil.Eventually(t, 15*time.Second, "the token reaching n2", func() bool {
		res := testutil.Do(t, "POST", n2.AdminURL()+"/console/session", strings.NewReader(`{"token":"`+tok.Secret+`"}`), map[string]string{"X-Wedge-Console": "1"})
		return res.Status == 200
	})
	ops = signInAs(t, n2, tok.Secret)
	for _, n := range []*node.Node{n1, n3} {
		testutil.Eventually(t, 15*time.Second, "ops' session accepted by "+n.Config.NodeName, func() bool { return status(n, ops) == 200 })
	}
	// Sign-out on n2 ends the admin session everywhere.
	if res := testutil.Do(t, "DELETE", n2.AdminURL()+"/console/session", nil, admin); res.Status != 200 {
		t.Fatalf("sign-out on n2: %d %s", res.Status, res.Body)
	}
	testutil.Eventually(t, 15*time.Second, "the sign-out reaching n1", func() bool { return status(n1, admin) == 401 })
	// Revoking ops on n1 ends its session on n2 and n3.
	if err := testutil.Client(n1).RevokeToken(context.Background(), "ops"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node.Node{n2, n3} {
		testutil.Eventually(t, 15*time.Second, "the revocation ending ops' session on "+n.Config.NodeName, func() bool { return status(n, ops) == 401 })
	}
}

// TestPublicRequestsLoseTheSessionCookie: a browser sends a host's
// cookies to every port of it, so the console's session cookie reaches
// the public port when a function is served on the same host; the
// gateway drops it there, so no function (nor whoever deployed it) can
// take the session, and leaves the other cookies alone.
func TestPublicRequestsLoseTheSessionCookie(t *testing.T) {
	n, cl := setup(t)
	echo := `export default { fetch(request) { return new Response(request.headers.get("cookie") || "(none)"); } };`
	if _, _, err := cl.Deploy(context.Background(), "cookies", []byte(echo), client.DeployOptions{Routes: []string{"/cookies"}, JavaScript: true}); err != nil {
		t.Fatal(err)
	}
	session := signIn(t, n)
	for cookie, want := range map[string]string{
		"theme=dark; " + session.Name + "=" + session.Value + "; lang=en": "theme=dark; lang=en",
		session.Name + "=" + session.Value:                                "(none)",
		"theme=dark":                                                      "theme=dark",
		"not" + session.Name + "=x":                                       "not" + session.Name + "=x",
	} {
		res := testutil.Do(t, "GET", n.PublicURL()+"/cookies", nil, map[string]string{"Cookie": cookie})
		if res.Status != 200 || res.Body != want {
			t.Errorf("Cookie %q: the function saw %d %q; want %q", cookie, res.Status, res.Body, want)
		}
	}
}
