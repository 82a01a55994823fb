package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/wedge-run/wedge/internal/testutil"
)

// browserUser is one person at one browser: a separate browser context
// (its own storage, like a separate profile), with one tab.
type browserUser struct {
	t      *testing.T
	name   string
	url    string // the node this user's browser talks to
	ctx    context.Context
	shots  string
	mu     sync.Mutex
	errors []string // uncaught exceptions, dialogs
}

func newBrowserUser(t *testing.T, browser context.Context, name, url, shots string) *browserUser {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	u := &browserUser{t: t, name: name, url: url, ctx: ctx, shots: shots}
	// Open the tab, then watch it: an uncaught exception or any dialog
	// (alert(1) from injected markup, say) fails the test.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: opening a tab: %v", name, err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			u.fail("uncaught exception: " + exceptionText(ev.ExceptionDetails))
		case *page.EventJavascriptDialogOpening:
			u.fail(fmt.Sprintf("a %s dialog opened: %q", ev.Type, ev.Message))
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *runtime.EventConsoleAPICalled:
			if ev.Type == "error" {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				}
				t.Logf("%s: console.error: %s", name, strings.Join(parts, " "))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "?"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return s
}

func (u *browserUser) fail(msg string) {
	u.mu.Lock()
	u.errors = append(u.errors, msg)
	u.mu.Unlock()
}

// checkErrors fails the test if the page threw or opened a dialog.
func (u *browserUser) checkErrors() {
	u.t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.errors) > 0 {
		u.t.Fatalf("%s's page: %s", u.name, strings.Join(u.errors, "; "))
	}
}

// do runs actions with a bounded time, failing the test with a
// screenshot on error.
func (u *browserUser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		u.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
		u.t.Fatalf("%s: %s: %v", u.name, what, err)
	}
	u.checkErrors()
}

// eval evaluates a JavaScript expression in the page into T.
func eval[T any](u *browserUser, expr string) T {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		u.t.Fatalf("%s: evaluating %s: %v", u.name, expr, err)
	}
	return v
}

// waitFor polls a JavaScript expression until it is true. (chromedp.Poll
// builds its predicate with new Function, which the app's CSP forbids:
// this polls from Go with plain evaluations instead.)
func (u *browserUser) waitFor(what, expr string, timeout time.Duration) {
	u.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			u.checkErrors()
			return
		}
		if time.Now().After(deadline) {
			u.screenshot("timeout-" + strings.ReplaceAll(what, " ", "-"))
			u.t.Fatalf("%s: timed out after %v waiting for %s (%s); last error %v; error banner %q", u.name, timeout, what, expr, err,
				eval[string](u, `document.getElementById('error').hidden ? '' : document.getElementById('error-text').textContent`))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// screenshot saves the viewport as <shots>/<user>-<name>.png.
func (u *browserUser) screenshot(name string) {
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		u.t.Logf("%s: screenshot %s: %v", u.name, name, err)
		return
	}
	path := filepath.Join(u.shots, u.name+"-"+name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		u.t.Logf("saving %s: %v", path, err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hasMessage is a JavaScript test for a message with exactly this text
// in the open room.
func hasMessage(text string) string {
	return `[...document.querySelectorAll('#messages .text')].some(e => e.textContent === ` + jsString(text) + `)`
}

func (u *browserUser) register(password string) {
	u.t.Helper()
	u.do("open the page", chromedp.Navigate(u.url+"/"), chromedp.WaitVisible(chromedp.ID("auth-view")))
	u.screenshot("00-login")
	u.do("register",
		chromedp.SendKeys(chromedp.ID("username"), u.name),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("register-btn")),
		chromedp.WaitVisible(chromedp.ID("chat-view")),
	)
}

func (u *browserUser) send(text string) {
	u.t.Helper()
	u.do("send a message",
		chromedp.WaitVisible(chromedp.ID("composer-text")),
		chromedp.SetValue(chromedp.ID("composer-text"), text),
		chromedp.Click(chromedp.ID("send")),
	)
	u.waitFor("the sent message", hasMessage(text), 10*time.Second)
}

// TestChatInBrowser drives the UI in headless Chromium: two people, each
// in a browser context of their own (bob on a phone-sized screen), log
// in, meet in a room and chat; each sees the other's messages, unread
// counts show up, markup in a message shows as text, and API errors are
// shown to the user.
func TestChatInBrowser(t *testing.T) {
	chromium := testutil.RequireChromium(t)
	// Two nodes of a cluster: each user talks to a node of their own,
	// alice through a proxy that can answer like a saturated node.
	nodes := startCluster(t, 2)
	busy := newBusyProxy(t, nodes[0].url)
	aliceURL, bobURL := busy.url, nodes[1].url
	shots := testutil.ArtifactDir(t, "chat-browser")

	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800)}
	for k, v := range testutil.ChromiumFlags() {
		opts = append(opts, chromedp.Flag(k, v))
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}

	alice := newBrowserUser(t, browser, "alice", aliceURL, shots)
	bob := newBrowserUser(t, browser, "bob", bobURL, shots)
	bob.do("use a phone-sized screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))

	// Alice registers (and is logged in) and creates a room.
	alice.register("alice's password")
	alice.screenshot("01-registered")
	alice.do("create a room",
		chromedp.SendKeys(chromedp.ID("room-name"), "lobby"),
		chromedp.Click(chromedp.ID("create-room")),
		chromedp.WaitVisible(chromedp.CSS(`#my-rooms li[data-room="lobby"]`)),
		chromedp.WaitVisible(chromedp.ID("composer-text")),
	)

	// Bob registers on his phone and joins it from the list of other rooms.
	bob.register("bob's password!")
	bob.waitFor("lobby in the other rooms", `document.querySelector('#other-rooms li[data-room="lobby"] button.join')`, 10*time.Second)
	bob.screenshot("01-rooms")
	bob.do("join the room",
		chromedp.Click(chromedp.CSS(`#other-rooms li[data-room="lobby"] button.join`)),
		chromedp.WaitVisible(chromedp.ID("composer-text")),
	)
	if !eval[bool](bob, `getComputedStyle(document.getElementById('rooms-pane')).display === 'none'`) {
		t.Fatal("on a phone, an open room should take the whole screen")
	}

	// They talk.
	alice.send("hello bob")
	bob.waitFor("alice's message", hasMessage("hello bob"), 10*time.Second)
	bob.send("hi alice, how are you?")
	alice.waitFor("bob's message", hasMessage("hi alice, how are you?"), 10*time.Second)
	alice.screenshot("02-conversation")

	// A post shed by a saturated node (503, Retry-After) is sent again
	// once, after the wait, and alice sees no error.
	busy.armed.Store(true)
	alice.send("sent through a busy node")
	bob.waitFor("the message that was shed once", hasMessage("sent through a busy node"), 10*time.Second)
	if busy.shed.Load() != 1 || !eval[bool](alice, `document.getElementById('error').hidden`) {
		t.Fatalf("busy node: %d posts shed, error shown: %q", busy.shed.Load(), eval[string](alice, `document.getElementById('error-text').textContent`))
	}

	// Markup in a message is text: no element is made from it, nothing runs.
	evil := `<img src=x onerror=alert(1)> <b>bold?</b>`
	alice.send(evil)
	bob.waitFor("the message with markup", hasMessage(evil), 10*time.Second)
	for _, u := range []*browserUser{alice, bob} {
		if n := eval[int](u, `document.querySelectorAll('#messages img, #messages b, img').length`); n != 0 {
			t.Fatalf("%s's page made %d elements from a message's markup", u.name, n)
		}
		if got := eval[string](u, `[...document.querySelectorAll('#messages .text')].pop().textContent`); got != evil {
			t.Fatalf("%s sees %q", u.name, got)
		}
	}
	bob.screenshot("02-markup-as-text")

	// Unread counts: bob goes back to the list; alice writes twice.
	bob.do("go back to the rooms", chromedp.Click(chromedp.ID("back")), chromedp.WaitVisible(chromedp.ID("my-rooms")))
	alice.send("are you there?")
	alice.send("bob?")
	bob.waitFor("two unread in lobby", `document.querySelector('#my-rooms li[data-room="lobby"] .badge')?.textContent === '2'`, 15*time.Second)
	bob.screenshot("03-unread")
	bob.do("open the room", chromedp.Click(chromedp.CSS(`#my-rooms li[data-room="lobby"] button.open`)))
	bob.waitFor("the new messages", hasMessage("bob?"), 10*time.Second)
	bob.do("go back again", chromedp.Click(chromedp.ID("back")), chromedp.WaitVisible(chromedp.ID("my-rooms")))
	bob.waitFor("the count cleared", `!document.querySelector('#my-rooms li[data-room="lobby"] .badge')`, 10*time.Second)

	// An API error reaches the user in words: the room exists already.
	bob.do("create a room that exists",
		chromedp.SendKeys(chromedp.ID("room-name"), "lobby"),
		chromedp.Click(chromedp.ID("create-room")),
	)
	bob.waitFor("the error banner", `!document.getElementById('error').hidden && document.getElementById('error-text').textContent.includes('a room with that name exists')`, 10*time.Second)
	bob.screenshot("04-error")

	// A reload keeps the session (sessionStorage); every message is
	// still there, in order.
	alice.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("chat-view")))
	alice.do("reopen the room", chromedp.Click(chromedp.CSS(`#my-rooms li[data-room="lobby"] button.open`)))
	alice.waitFor("the history", hasMessage("bob?"), 10*time.Second)
	texts := eval[[]string](alice, `[...document.querySelectorAll('#messages .text')].map(e => e.textContent)`)
	wantTexts := []string{"hello bob", "hi alice, how are you?", "sent through a busy node", evil, "are you there?", "bob?"}
	if strings.Join(texts, "|") != strings.Join(wantTexts, "|") {
		t.Fatalf("alice's history after a reload: %q", texts)
	}
	alice.screenshot("03-after-reload")

	// Logging out forgets the token.
	alice.do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("auth-view")))
	if tok := eval[string](alice, `sessionStorage.getItem('chat.token') || ''`); tok != "" {
		t.Fatal("the token survived logging out")
	}
	alice.checkErrors()
	bob.checkErrors()
}

// busyProxy forwards a browser to a node; when armed, it answers the
// next post of a message itself with the 503 a saturated node gives
// (Retry-After: 1, X-Wedge-Error: overloaded), without forwarding it.
type busyProxy struct {
	url   string
	armed atomic.Bool
	shed  atomic.Int32
}

func newBusyProxy(t *testing.T, target string) *busyProxy {
	u, err := neturl.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &busyProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/messages") && p.armed.CompareAndSwap(true, false) {
			p.shed.Add(1)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-Wedge-Error", "overloaded")
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "the node is at its concurrency limit; try again shortly")
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}
