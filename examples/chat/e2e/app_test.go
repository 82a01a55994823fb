// Package chat_test runs the chat example app (examples/chat) end to end:
// its four functions are built from source with the Go toolchain,
// deployed on a real in-process wedge node with the app's routes, key-value
// namespace and trigger, and driven over HTTP, and in the browser test
// through headless Chromium.
package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

// ns is the key-value namespace every function of the app shares.
const ns = "chat"

// functions are the app's functions as wedge.toml declares them
// (manifest_test.go checks that the two agree).
var functions = []struct {
	name     string
	routes   []string
	triggers []model.Trigger
	limits   model.Limits
	config   map[string]string
	affinity string
}{
	{
		name: "auth", routes: []string{"/api/auth/..."},
		limits: model.Limits{TimeoutMS: 5000, MemoryBytes: 64 << 20, MaxConcurrency: 8},
		config: map[string]string{"SESSION_TTL": "24h"},
	},
	{
		name: "messages", routes: []string{"/api/rooms", "/api/rooms/...", "/api/inbox"}, affinity: "/api/rooms/*",
		limits: model.Limits{TimeoutMS: 5000, MemoryBytes: 64 << 20, MaxResponseBytes: 4 << 20},
	},
	{
		name: "notify", triggers: []model.Trigger{{Kind: "kv", Namespace: ns, Prefix: "msg/"}},
		limits: model.Limits{TimeoutMS: 30000, MemoryBytes: 64 << 20},
	},
	{
		name: "web", routes: []string{"/..."},
		limits: model.Limits{TimeoutMS: 5000, MemoryBytes: 32 << 20},
	},
}

// notifyAllowedHosts is the notify function's allow-list in the next
// deployChat (a test's webhook receiver).
var notifyAllowedHosts []string

// chatApp is the app deployed on one node.
type chatApp struct {
	n   *node.Node
	url string // the node's public gateway
}

// deployChat deploys the four functions on n, concurrently: compiling a
// Go module (twice, with its deploy-time snapshot) is most of the time
// a first deploy takes, and the compiler runs on one core per module.
func deployChat(t *testing.T, n *node.Node) *chatApp {
	t.Helper()
	errs := make([]error, len(functions))
	var wg sync.WaitGroup
	for i, f := range functions {
		wasm := testutil.BuildGoWasm(t, "examples/chat/"+f.name, true)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var allowed []string
			if f.name == "notify" {
				allowed = notifyAllowedHosts
			}
			_, _, err := n.Registry.Deploy(context.Background(), registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: f.name, Routes: f.routes, Triggers: f.triggers, AllowedHosts: allowed, Limits: f.limits, Config: f.config, KVNamespace: ns, App: "chat", Affinity: f.affinity}, Wasm: wasm})
			if err != nil {
				errs[i] = fmt.Errorf("deploying %s: %w", f.name, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return &chatApp{n: n, url: n.PublicURL()}
}

// startChat starts a node with the app deployed.
func startChat(t *testing.T) *chatApp {
	t.Helper()
	n := testutil.StartNode(t, "", func(c *node.Config) { c.RetryBackoff = 50 * time.Millisecond })
	return deployChat(t, n)
}

// reply is an API answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// decode parses the body as JSON into v.
func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d %q is not the expected JSON: %v", r.status, r.body, err)
	}
}

// errorText is the "error" field of a JSON error answer.
func (r reply) errorText(t testing.TB) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	r.decode(t, &e)
	if e.Error == "" {
		t.Fatalf("answer %d %q has no error text", r.status, r.body)
	}
	return e.Error
}

// call sends one API request; body is JSON-encoded unless it is a
// string or []byte (sent as is). A non-empty token goes in
// Authorization: Bearer.
func (a *chatApp) call(t testing.TB, method, path, token string, body any) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// want fails the test unless r has the status.
func want(t testing.TB, r reply, status int, what string) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
	return r
}

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// register creates an account and logs it in, returning the token.
func (a *chatApp) register(t testing.TB, user, password string) string {
	t.Helper()
	want(t, a.call(t, "POST", "/api/auth/register", "", credentials{user, password}), 201, "register "+user)
	return a.login(t, user, password)
}

// login returns a session token.
func (a *chatApp) login(t testing.TB, user, password string) string {
	t.Helper()
	r := want(t, a.call(t, "POST", "/api/auth/login", "", credentials{user, password}), 200, "login "+user)
	var out struct {
		Token    string    `json:"token"`
		Expires  time.Time `json:"expires"`
		Username string    `json:"username"`
	}
	r.decode(t, &out)
	if len(out.Token) != 64 || out.Username != user || time.Until(out.Expires) < 23*time.Hour {
		t.Fatalf("login %s: %s", user, r.body)
	}
	return out.Token
}

// message is a message as the API returns it.
type message struct {
	ID   int64     `json:"id"`
	Room string    `json:"room"`
	User string    `json:"user"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

type msgPage struct {
	Messages []message `json:"messages"`
	More     bool      `json:"more"`
	LastID   int64     `json:"last_id"`
}

// post sends a message and returns it as stored.
func (a *chatApp) post(t testing.TB, token, room, text string) message {
	t.Helper()
	r := want(t, a.call(t, "POST", "/api/rooms/"+room+"/messages", token, map[string]string{"text": text}), 201, "post to "+room)
	var m message
	r.decode(t, &m)
	return m
}

// messages reads a page of a room; query is "after=3&limit=10" or "".
func (a *chatApp) messages(t testing.TB, token, room, query string) msgPage {
	t.Helper()
	r := want(t, a.call(t, "GET", "/api/rooms/"+room+"/messages?"+query, token, nil), 200, "messages of "+room)
	var p msgPage
	r.decode(t, &p)
	return p
}

// unread returns a user's unread counts.
func (a *chatApp) unread(t testing.TB, token string) map[string]int64 {
	t.Helper()
	r := want(t, a.call(t, "GET", "/api/inbox", token, nil), 200, "inbox")
	var out struct {
		Unread map[string]int64 `json:"unread"`
		Total  int64            `json:"total"`
	}
	r.decode(t, &out)
	var sum int64
	for _, n := range out.Unread {
		sum += n
	}
	if sum != out.Total {
		t.Fatalf("inbox total %d, counts %v", out.Total, out.Unread)
	}
	return out.Unread
}

func ids(msgs []message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func span(lo, hi int64) []int64 {
	var out []int64
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// unreadSoon is unread for polling a node that may not know the session
// yet (sessions replicate like every key): nil on 401.
func (a *chatApp) unreadSoon(t testing.TB, token string) map[string]int64 {
	t.Helper()
	if r := a.call(t, "GET", "/api/inbox", token, nil); r.status == 401 {
		return nil
	}
	return a.unread(t, token)
}

// messagesSoon is messages for polling a node that may not know the
// session yet: an empty page on 401.
func (a *chatApp) messagesSoon(t testing.TB, token, room, query string) msgPage {
	t.Helper()
	if r := a.call(t, "GET", "/api/rooms/"+room+"/messages?"+query, token, nil); r.status == 401 {
		return msgPage{}
	}
	return a.messages(t, token, room, query)
}
