// Package e2e drives the web console (internal/console) in headless
// Chromium through a real node. It is a module of its own so that the
// root module does not require chromedp (docs/RATIONALE.md, "Modules").
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// updateDocsEnv set to "1" makes the browser test also write its
// screenshots to docs/console/ (the README's pictures).
const updateDocsEnv = "WEDGE_UPDATE_SCREENSHOTS"

// helloWAT answers every request with an empty 200.
const helloWAT = `(module
  (memory (export "memory") 1)
  (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`

// startBrowser starts headless Chromium with a window of width x height;
// it ends with the test.
func startBrowser(t *testing.T, width, height int) context.Context {
	chromium := testutil.RequireChromium(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height)}
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
	return browser
}

// failingConsumerWAT is a queue consumer that always fails: its messages
// dead-letter once their attempts are spent.
const failingConsumerWAT = `(module
  (memory (export "memory") 1)
  (func (export "wedge_event") (param i32) (result i32) (i32.const 1)))`

// helloScript is deployed from the page as a file: it logs a line per
// request. helloScriptV2 is its second version, deployed the same way.
const helloScript = `export default {
  async fetch(request) {
    console.log("hello-console answered a request");
    return new Response("hello from a function deployed in the console\n");
  },
};
`

const helloScriptV2 = `export default {
  async fetch(request) {
    console.log("hello-console answered a request");
    return new Response("hello from version 2\n");
  },
};
`

// page is one browser tab on the console, with checks that fail the
// test on an uncaught exception or a dialog (the console uses <dialog>,
// never alert or confirm).
type consolePage struct {
	t      *testing.T
	ctx    context.Context
	shots  string
	docs   string // also save screenshots here ("" not)
	mu     sync.Mutex
	errors []string
}

// cspWatch runs in every document before its own script (injected by
// the DevTools protocol, which the page's CSP does not govern) and
// records the page's CSP violations, for checkPolicy.
const cspWatch = `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`

// newConsolePage opens a tab; every request it makes must go to origin
// (the node's admin address: no CDN, no other site).
func newConsolePage(t *testing.T, browser context.Context, origin, shots, docs string) *consolePage {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &consolePage{t: t, ctx: ctx, shots: shots, docs: docs}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "data:") {
				p.fail("a request outside the node: " + u)
			}
		case *runtime.EventExceptionThrown:
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			p.fail("uncaught exception: " + msg)
		case *page.EventJavascriptDialogOpening:
			p.fail(fmt.Sprintf("a %s dialog opened: %q", ev.Type, ev.Message))
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *runtime.EventConsoleAPICalled:
			if ev.Type == "error" {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				}
				t.Logf("console.error: %s", strings.Join(parts, " "))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *consolePage) fail(msg string) {
	p.mu.Lock()
	p.errors = append(p.errors, msg)
	p.mu.Unlock()
}

func (p *consolePage) checkErrors() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errors) > 0 {
		p.t.Fatalf("the console page: %s", strings.Join(p.errors, "; "))
	}
}

// checkPolicy fails the test if the page broke its Content-Security-
// Policy (an inline script or style, a foreign resource) since it loaded.
func (p *consolePage) checkPolicy(what string) {
	p.t.Helper()
	if v := evalIn[[]string](p, `window.__cspViolations || ['the CSP watch did not run']`); len(v) > 0 {
		p.t.Fatalf("%s: CSP violations: %s", what, strings.Join(v, "; "))
	}
}

// namedRoles are the roles whose every element must have an accessible
// name (a label, its text, aria-label or aria-labelledby).
var namedRoles = map[string]bool{"button": true, "link": true, "textbox": true, "searchbox": true, "spinbutton": true,
	"combobox": true, "checkbox": true, "radio": true, "meter": true, "img": true, "dialog": true, "table": true, "navigation": true}

// checkNames fails the test if an element of the page's accessibility
// tree (as Chromium computes it for screen readers; hidden elements are
// not in it) in namedRoles has no name.
func (p *consolePage) checkNames(what string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	tree, err := chromedp.Call(ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		p.t.Fatalf("%s: the accessibility tree: %v", what, err)
	}
	str := func(v *accessibility.Value) string {
		var s string
		if v != nil {
			_ = json.Unmarshal(v.Value, &s)
		}
		return s
	}
	checked := 0
	var unnamed []string
	for _, n := range tree.Nodes {
		if n.Ignored || !namedRoles[str(n.Role)] {
			continue
		}
		checked++
		if strings.TrimSpace(str(n.Name)) == "" {
			unnamed = append(unnamed, fmt.Sprintf("a %s (%s)", str(n.Role), str(n.Value)))
		}
	}
	if len(unnamed) > 0 {
		p.screenshot("unnamed-" + strings.ReplaceAll(what, " ", "-"))
		p.t.Fatalf("%s: %d of %d controls have no accessible name: %s", what, len(unnamed), checked, strings.Join(unnamed, ", "))
	}
	if checked < 3 {
		p.t.Fatalf("%s: only %d named controls found; is the tree read?", what, checked)
	}
	p.t.Logf("%s: all %d controls have an accessible name", what, checked)
}

// do runs actions with a bounded time; on error it saves a screenshot.
func (p *consolePage) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
		p.t.Fatalf("%s: %v (%s)", what, err, p.banner())
	}
	p.checkErrors()
}

func evalIn[T any](p *consolePage, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// banner is the page's error banner, if shown.
func (p *consolePage) banner() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('error').hidden ? '' : 'error banner: ' + document.getElementById('error-text').textContent`))
	return s
}

// waitFor polls a JavaScript expression until it is true (from Go:
// chromedp.Poll builds its predicate with new Function, which the CSP
// forbids).
func (p *consolePage) waitFor(what, expr string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			p.checkErrors()
			return
		}
		if time.Now().After(deadline) {
			p.screenshot("timeout-" + strings.ReplaceAll(what, " ", "-"))
			p.t.Fatalf("timed out after %v waiting for %s (%s); last error %v; %s", timeout, what, expr, err, p.banner())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// screenshot saves the whole page as <shots>/<name>.png (and in docs).
func (p *consolePage) screenshot(name string) { p.capture(name, chromedp.FullScreenshot(100)) } // 100: PNG

// screenshotViewport saves what the screen shows (an emulated phone's).
func (p *consolePage) screenshotViewport(name string) { p.capture(name, chromedp.CaptureScreenshot()) }

func (p *consolePage) capture(name string, shot chromedp.Action[[]byte]) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, shot)
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	for _, dir := range []string{p.shots, p.docs} {
		if dir == "" || dir == p.docs && !docsShots[name] {
			continue
		}
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			p.t.Errorf("saving %s: %v", path, err)
			continue
		}
		p.t.Logf("screenshot: %s", path)
	}
}

// docsShots are the screenshots the README shows (docs/console/).
var docsShots = map[string]bool{"02-functions": true, "03-function": true, "04-versions": true, "06-dead-letters": true,
	"07-cluster": true, "08-traces": true, "10-read-token": true}

func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestConsoleInBrowser drives the console in headless Chromium through a
// real node: sign in with the admin token, deploy a script by file
// upload, see it listed as JavaScript, see its log line (by request id)
// in the live tail after a request, deploy it again and roll back to the
// first version, edit a KV value with a TTL, replay a dead letter, look
// at the cluster, find a request's trace, delete with confirmation, use
// it on a phone-sized screen and by keyboard, sign out (the session is
// then revoked on the server), and sign in with a read-only token scoped
// to some functions, which sees only those, gets no control that changes
// anything, is refused with the rule named, and is signed out when the
// token is revoked.
func TestConsoleInBrowser(t *testing.T) {
	browser := startBrowser(t, 1200, 820)
	n := testutil.StartNode(t, "", func(c *node.Config) {
		c.RetryBackoff = 20 * time.Millisecond
		c.NodeName = "edge-1"
		c.Trace.Sample = 1 // every request a trace in the node's ring
	})
	cl := testutil.Client(n)
	ctx := context.Background()
	shots := testutil.ArtifactDir(t, "console-browser")
	docs := ""
	if os.Getenv(updateDocsEnv) == "1" {
		docs = filepath.Join(testutil.RepoRoot(t), "docs", "console")
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// What the node holds before the browser arrives: a KV value, a queue
	// whose consumer fails (its message dead-letters), a schedule, a
	// bucket with an object, a function with affinity.
	if _, err := cl.KVPut(ctx, "notes", "greeting", []byte("hi"), client.KVPutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cl.Deploy(ctx, "resize", testutil.WAT(t, failingConsumerWAT), client.DeployOptions{
		Triggers: []string{`{"kind":"queue","queue":"jobs","max_attempts":1}`, `{"kind":"schedule","cron":"@hourly"}`, `{"kind":"upload","bucket":"photos"}`},
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cl.Deploy(ctx, "rooms", testutil.WAT(t, helloWAT), client.DeployOptions{Routes: []string{"/rooms/..."}, Affinity: "/rooms/*"}); err != nil {
		t.Fatal(err)
	}
	if res := testutil.Do(t, "PUT", n.AdminURL()+"/v1/buckets/photos/cat.txt", strings.NewReader("not really a cat"),
		map[string]string{"Authorization": "Bearer " + testutil.Token, "Content-Type": "text/plain"}); res.Status != 201 {
		t.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	type dead struct {
		Dead []struct {
			ID string `json:"id"`
		} `json:"dead"`
	}
	deadLetters := func() int {
		var d dead
		if _, err := cl.Do(ctx, "GET", "/v1/queues/jobs/dead", nil, nil, nil, &d); err != nil {
			t.Fatal(err)
		}
		return len(d.Dead)
	}
	if res := testutil.Do(t, "POST", n.AdminURL()+"/v1/queues/jobs", strings.NewReader(`{"photo":"cat.txt"}`),
		map[string]string{"Authorization": "Bearer " + testutil.Token}); res.Status != 201 {
		t.Fatalf("publish: %d %s", res.Status, res.Body)
	}
	testutil.Eventually(t, 20*time.Second, "the message to dead-letter", func() bool { return deadLetters() == 1 })
	failedAttempts := func() int64 {
		var st struct {
			Failed int64 `json:"failed_attempts"`
		}
		if _, err := cl.Do(ctx, "GET", "/v1/events", nil, nil, nil, &st); err != nil {
			t.Fatal(err)
		}
		return st.Failed
	}

	script := filepath.Join(t.TempDir(), "hello-console.js")
	if err := os.WriteFile(script, []byte(helloScript), 0o644); err != nil {
		t.Fatal(err)
	}
	scriptV2 := filepath.Join(t.TempDir(), "hello-console.js")
	if err := os.WriteFile(scriptV2, []byte(helloScriptV2), 0o644); err != nil {
		t.Fatal(err)
	}

	admin := n.AdminURL()
	p := newConsolePage(t, browser, admin, shots, docs)

	// Sign in.
	p.do("open the console", chromedp.Navigate(admin+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in-form")))
	p.screenshot("01-sign-in")
	p.checkNames("the sign-in form")
	// The skip link, by keyboard: it is the first stop of Tab; Enter
	// moves the focus to the content without changing the view.
	if !evalIn[bool](p, `document.querySelector('a[href], button, input, textarea, select, [tabindex]:not([tabindex="-1"])') === document.querySelector('.skip')`) {
		t.Fatal("the skip link is not the first keyboard stop")
	}
	p.do("skip to the content", chromedp.Focus(chromedp.CSS(".skip")), chromedp.KeyEvent("\r"))
	p.waitFor("the content focused", `document.activeElement.id === 'main' && location.hash === ''`, 5*time.Second)
	p.do("sign in with a wrong token",
		chromedp.SendKeys(chromedp.ID("token"), "not-the-token"),
		chromedp.Click(chromedp.ID("sign-in")))
	p.waitFor("the wrong token refused", `document.getElementById('sign-in-error').textContent.includes('accepts no such token')`, 10*time.Second)
	p.do("sign in",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("token").value = ""`),
		chromedp.SendKeys(chromedp.ID("token"), testutil.Token),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("functions-view")))
	if href := evalIn[string](p, `location.href + '|' + document.cookie + '|' + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)`); strings.Contains(href, testutil.Token) {
		t.Fatalf("the token is visible to the page after sign-in: %s", href)
	}
	cookies, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{admin + "/"}})
	if err != nil || len(cookies.Cookies) != 1 {
		t.Fatalf("cookies %v, %v; want the session cookie", cookies, err)
	}
	session := cookies.Cookies[0]
	if !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Value == testutil.Token {
		t.Fatalf("session cookie %+v: want HTTP-only, SameSite=Strict, not the token", session)
	}

	// Deploy by file upload; the function appears.
	p.do("choose the script", chromedp.SetUploadFiles(chromedp.ID("deploy-file"), []string{script}))
	p.waitFor("the name filled from the file", `document.getElementById('deploy-name').value === 'hello-console'`, 5*time.Second)
	p.do("deploy", chromedp.Click(chromedp.ID("deploy-button")))
	p.waitFor("hello-console listed", `document.querySelector('#functions-table tr[data-function="hello-console"]')`, 90*time.Second)
	p.waitFor("the deploy reported", `document.getElementById('deploy-progress').textContent.includes('Deployed hello-console version 1')`, 5*time.Second)
	if f, err := cl.Get(ctx, "hello-console"); err != nil || f.Version != 1 || len(f.Routes) != 1 || f.Routes[0] != "/hello-console" || f.Kind != "js" {
		t.Fatalf("hello-console as deployed: %+v, %v", f, err)
	}
	// Listed as JavaScript with its script's size, not as the engine's
	// native entry.
	scriptKind := fmt.Sprintf("JavaScript (script %d B)", len(helloScript))
	p.waitFor("hello-console shown as JavaScript", `(() => { const r = document.querySelector('#functions-table tr[data-function="hello-console"]');
		return r.dataset.kind === 'js' && r.cells[3].textContent === `+jsQuote(scriptKind)+`; })()`, 5*time.Second)
	p.waitFor("rooms shown as a native-entry module", `document.querySelector('#functions-table tr[data-function="rooms"]').cells[3].textContent === 'Wasm, native entry'`, 5*time.Second)
	p.screenshot("02-functions")
	p.checkNames("the functions view")

	// Deployed again from the page, this time dropped on the drop zone (a
	// drop event carrying the file, as a drag from the desktop delivers
	// it): version 2 serves.
	p.do("drop the second version on the drop zone", chromedp.Evaluate[chromedp.Void](`(() => {
		const dt = new DataTransfer();
		dt.items.add(new File([`+jsQuote(helloScriptV2)+`], `+jsQuote(filepath.Base(scriptV2))+`, {type: 'application/javascript'}));
		const zone = document.getElementById('drop-zone');
		for (const type of ['dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
	})()`))
	p.waitFor("the dropped file ready", `document.getElementById('deploy-progress').textContent.startsWith('hello-console.js (')`, 5*time.Second)
	p.waitFor("the name filled again", `document.getElementById('deploy-name').value === 'hello-console'`, 5*time.Second)
	p.do("deploy version 2", chromedp.Click(chromedp.ID("deploy-button")))
	p.waitFor("version 2 deployed", `document.getElementById('deploy-progress').textContent.includes('Deployed hello-console version 2')`, 90*time.Second)
	if res := testutil.Get(t, n.PublicURL()+"/hello-console"); res.Body != "hello from version 2\n" {
		t.Fatalf("after the second deploy: %d %q", res.Status, res.Body)
	}

	// Its page: the live log shows the line of a request made now.
	p.do("open hello-console",
		chromedp.Click(chromedp.CSS(`#functions-table tr[data-function="hello-console"] a`)),
		chromedp.WaitVisible(chromedp.ID("function-view")))
	p.waitFor("the log tail following", `document.getElementById('log-state').textContent === 'Following…'`, 10*time.Second)
	var reqID string
	for i := 0; i < 5; i++ {
		res := testutil.Get(t, n.PublicURL()+"/hello-console")
		if res.Status != 200 || res.Body != "hello from version 2\n" {
			t.Fatalf("GET /hello-console: %d %s", res.Status, res.Body)
		}
		reqID = res.Header.Get("X-Request-Id")
	}
	if reqID == "" {
		t.Fatal("no X-Request-Id")
	}
	p.waitFor("the request's log line in the tail",
		`[...document.querySelectorAll('#log-tail tbody tr')].some(r => r.dataset.request === `+jsQuote(reqID)+` && r.textContent.includes('hello-console answered a request'))`, 15*time.Second)
	// The charts (re-read on opening the page) show the requests.
	p.do("reopen hello-console", chromedp.Evaluate[chromedp.Void](`location.hash = '#functions'`))
	p.do("open hello-console again", chromedp.Evaluate[chromedp.Void](`location.hash = '#function/hello-console'`))
	p.waitFor("the charts drawn with the requests", `document.querySelectorAll('#charts svg rect').length >= 3 && document.querySelector('#charts .now').textContent !== '–'`, 10*time.Second)
	p.waitFor("the log refilled", `document.querySelectorAll('#log-tail tbody tr').length >= 5`, 10*time.Second)
	p.waitFor("the kind among the facts", `[...document.querySelectorAll('#function-facts dd')].some(d => d.textContent === `+
		jsQuote(fmt.Sprintf("JavaScript (script %d B)", len(helloScriptV2)))+`)`, 5*time.Second)
	p.screenshot("03-function")
	p.checkNames("the function view")

	// Versions: both kept, 2 active; roll back to 1 from the page (with
	// confirmation), and version 1 serves again.
	p.waitFor("two versions, 2 active", `(() => { const rows = [...document.querySelectorAll('#versions-table tbody tr')];
		return rows.length === 2 && rows.find(r => r.dataset.version === '2').dataset.active === 'true'
			&& rows.every(r => r.cells[1].textContent.startsWith('JavaScript')); })()`, 10*time.Second)
	rollback := chromedp.CSS(`#versions-table tr[data-version="1"] button`)
	p.do("roll back to version 1", chromedp.Click(rollback), chromedp.WaitVisible(chromedp.ID("confirm")))
	if txt := evalIn[string](p, `document.getElementById('confirm-text').textContent`); !strings.Contains(txt, "version 1 of hello-console") {
		t.Fatalf("the rollback's confirmation: %q", txt)
	}
	p.do("confirm the rollback", chromedp.Click(chromedp.ID("confirm-ok")))
	p.waitFor("the rollback confirmed", `document.getElementById('status').textContent.includes('Rolled hello-console back to version 1')`, 30*time.Second)
	p.waitFor("version 1 active in the table", `document.querySelector('#versions-table tr[data-version="1"]').dataset.active === 'true'`, 10*time.Second)
	p.screenshot("04-versions")
	if res := testutil.Get(t, n.PublicURL()+"/hello-console"); !strings.Contains(res.Body, "deployed in the console") || res.Header.Get("X-Wedge-Version") != "1" {
		t.Fatalf("after the rollback: %d %q, version %q; want version 1's answer", res.Status, res.Body, res.Header.Get("X-Wedge-Version"))
	}

	// KV: open the namespace, edit the value with a TTL.
	p.do("open KV by keyboard", chromedp.Focus(chromedp.CSS(`.tabs a[data-view="kv"]`)), chromedp.KeyEvent("\r"))
	p.waitFor("the KV view, its heading focused", `!document.getElementById('kv-view').hidden && document.activeElement.id === 'kv-title'`, 5*time.Second)
	p.do("open the notes namespace", chromedp.Click(chromedp.CSS(`#kv-namespaces button[data-ns="notes"]`)))
	p.do("open greeting", chromedp.Click(chromedp.CSS(`#kv-keys tr[data-key="greeting"] button`)), chromedp.WaitVisible(chromedp.ID("kv-editor")))
	p.waitFor("the value loaded", `document.getElementById('kv-value').value === 'hi'`, 5*time.Second)
	p.do("edit greeting",
		chromedp.SetValue(chromedp.ID("kv-value"), "edited in the console"),
		chromedp.SetValue(chromedp.ID("kv-ttl"), "3600"),
		chromedp.Click(chromedp.ID("kv-save")))
	p.waitFor("the save confirmed", `document.getElementById('kv-meta').textContent.startsWith('Saved: version')`, 10*time.Second)
	res := testutil.Do(t, "GET", admin+"/v1/kv/notes/greeting", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	if res.Body != "edited in the console" || res.Header.Get("Expires") == "" {
		t.Fatalf("notes/greeting after the edit: %q, Expires %q; want the new value with a TTL", res.Body, res.Header.Get("Expires"))
	}
	if exp, err := time.Parse(time.RFC1123, res.Header.Get("Expires")); err != nil || time.Until(exp) < 50*time.Minute || time.Until(exp) > 61*time.Minute {
		t.Fatalf("expires %v (%v); want in about an hour", exp, err)
	}
	p.screenshot("05-kv")
	p.checkNames("the KV view")

	// Events: the queue's dead letter, replayed (the consumer runs again).
	p.do("open events", chromedp.Click(chromedp.CSS(`.tabs a[data-view="events"]`)))
	p.do("show the dead letters of jobs", chromedp.Click(chromedp.CSS(`#queues tr[data-queue="jobs"] button`)))
	p.waitFor("the dead letter listed", `document.querySelector('#dead tr[data-id] button')`, 10*time.Second)
	p.waitFor("the schedule listed", `[...document.querySelectorAll('#schedules td')].some(td => td.textContent === '@hourly')`, 5*time.Second)
	p.waitFor("the bucket listed", `[...document.querySelectorAll('#buckets button')].some(b => b.textContent === 'photos')`, 5*time.Second)
	p.screenshot("06-dead-letters")
	p.checkNames("the events view")
	before := failedAttempts()
	p.do("replay the dead letter", chromedp.Click(chromedp.CSS(`#dead tr[data-id] button`)))
	p.waitFor("the replay confirmed", `document.getElementById('status').textContent.includes('Replayed 1 message of jobs')`, 10*time.Second)
	testutil.Eventually(t, 20*time.Second, "the replayed message delivered again", func() bool { return failedAttempts() > before })

	// Cluster: this node, its load, and who owns a key under affinity.
	p.do("open the cluster", chromedp.Click(chromedp.CSS(`.tabs a[data-view="cluster"]`)))
	p.waitFor("this node listed", `document.querySelector('#members tr[data-member="edge-1"]')`, 10*time.Second)
	p.waitFor("rooms under affinity", `[...document.querySelectorAll('#affinity td')].some(td => td.textContent === '/rooms/*')`, 5*time.Second)
	p.do("find a key's owner",
		chromedp.SendKeys(chromedp.ID("owner-function"), "rooms"),
		chromedp.SendKeys(chromedp.ID("owner-key"), "lobby"),
		chromedp.KeyEvent("\r"))
	p.waitFor("the owner named", `document.getElementById('owner-result').textContent === 'Key lobby of rooms is owned by edge-1.'`, 5*time.Second)
	p.screenshot("07-cluster")
	p.checkNames("the cluster view")

	// Traces: a request made with a sampled traceparent is listed under its
	// trace id; opened, it shows its spans.
	traceID := "4bf92f3577b34da6a3ce929d0e0e4736"
	if res := testutil.Do(t, "GET", n.PublicURL()+"/hello-console", nil,
		map[string]string{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"}); res.Status != 200 {
		t.Fatalf("traced request: %d %s", res.Status, res.Body)
	}
	p.do("open traces", chromedp.Click(chromedp.CSS(`.tabs a[data-view="traces"]`)), chromedp.WaitVisible(chromedp.ID("traces-view")))
	p.waitFor("the request's trace listed", `[...document.querySelectorAll('#traces a')].some(a => a.textContent === `+jsQuote(traceID)+`)`, 10*time.Second)
	p.do("open the trace", chromedp.Click(chromedp.CSS(`#traces a[href="#traces/`+traceID+`"]`)))
	p.waitFor("its spans shown", `!document.getElementById('trace-panel').hidden && document.getElementById('trace-title').textContent === 'Trace `+traceID+`'
		&& document.querySelectorAll('#trace-spans tbody tr').length >= 1
		&& [...document.querySelectorAll('#trace-spans td')].some(td => td.textContent.includes('hello-console'))`, 10*time.Second)
	p.screenshot("08-traces")
	p.checkNames("the traces view")

	// Delete with confirmation: cancel keeps it, confirm deletes it.
	p.do("open functions", chromedp.Click(chromedp.CSS(`.tabs a[data-view="functions"]`)))
	// Wait for the list as it is now (hello-console rolled back to 1):
	// the redraw replaces the rows, and a click on an old one fails.
	p.waitFor("the list redrawn", `(r => r && r.cells[1].textContent === '1')(document.querySelector('#functions-table tr[data-function="hello-console"]'))`, 10*time.Second)
	del := chromedp.CSS(`#functions-table tr[data-function="rooms"] button.danger`)
	p.do("delete rooms, then cancel", chromedp.Click(del), chromedp.WaitVisible(chromedp.ID("confirm")), chromedp.Click(chromedp.ID("confirm-cancel")),
		chromedp.WaitNotVisible(chromedp.ID("confirm")))
	// By keyboard: the dialog opens with the focus on Cancel (the safe
	// answer), and Escape cancels.
	p.do("delete rooms, then press Escape", chromedp.Click(del), chromedp.WaitVisible(chromedp.ID("confirm")))
	p.waitFor("the focus on Cancel", `document.activeElement.id === 'confirm-cancel'`, 5*time.Second)
	p.checkNames("the confirmation dialog")
	p.do("press Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("confirm")))
	if _, err := cl.Get(ctx, "rooms"); err != nil {
		t.Fatalf("rooms after a cancelled delete: %v", err)
	}
	p.do("delete rooms, then confirm", chromedp.Click(del), chromedp.WaitVisible(chromedp.ID("confirm")), chromedp.Click(chromedp.ID("confirm-ok")))
	p.waitFor("rooms gone from the list", `!document.querySelector('#functions-table tr[data-function="rooms"]')`, 10*time.Second)
	if _, err := cl.Get(ctx, "rooms"); err == nil {
		t.Fatal("rooms still deployed after a confirmed delete")
	}

	// A phone-sized screen: nothing wider than the screen but the tables'
	// own scrolling.
	p.do("use a phone-sized screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	p.waitFor("the layout to fit", `document.documentElement.scrollWidth <= window.innerWidth + 1`, 5*time.Second)
	p.screenshotViewport("09-narrow")
	for _, view := range []string{"function/hello-console", "kv/notes", "events", "cluster", "traces", "functions"} {
		p.do("open "+view+" on the phone", chromedp.Evaluate[chromedp.Void](`location.hash = '#`+view+`'`))
		p.waitFor(view+" to fit the phone", `!document.getElementById('`+strings.Split(view, "/")[0]+`-view').hidden
			&& document.documentElement.scrollWidth <= window.innerWidth + 1`, 5*time.Second)
	}
	p.do("back to a desktop screen", chromedp.EmulateViewport(1200, 820))

	// Sign out: the page shows the sign-in form, and the old cookie is
	// refused by the server (the session is revoked, not just forgotten).
	p.checkPolicy("the admin's session")
	p.do("sign out", chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.ID("sign-in-form")))
	res = testutil.Do(t, "GET", admin+"/v1/functions", nil, map[string]string{"Cookie": session.Name + "=" + session.Value})
	if res.Status != 401 {
		t.Fatalf("the signed-out session's cookie: %d; want 401", res.Status)
	}
	p.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("sign-in-form")))
	if evalIn[bool](p, `!document.getElementById('signed-in').hidden`) {
		t.Fatal("signed in after sign-out and a reload")
	}
	p.checkErrors()

	readTokenSignIn(t, p, cl, admin)
}

// readTokenSignIn: a read-only token scoped to hello-* (wedge tokens
// create viewer --scope read --functions 'hello-*') signs in; the page
// lists only the functions it matches, offers no control that changes
// anything (deploy, delete, rollback, KV save, replay) and says why; a
// change forced from the page is refused with the rule named; revoking
// the token signs the page out.
func readTokenSignIn(t *testing.T, p *consolePage, cl *client.Client, admin string) {
	ctx := context.Background()
	tok, err := cl.CreateToken(ctx, "viewer", "read", "hello-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.KVPut(ctx, "hello-notes", "greeting", []byte("edited in the console"), client.KVPutOptions{}); err != nil {
		t.Fatal(err)
	}
	p.do("sign in with the read token",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("token").value = ""`),
		chromedp.SendKeys(chromedp.ID("token"), tok.Secret),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("functions-view")))
	p.waitFor("the token named", `document.getElementById('who').textContent === 'signed in with token viewer (scope read, functions hello-*)'`, 5*time.Second)
	p.waitFor("hello-console listed", `document.querySelector('#functions-table tr[data-function="hello-console"]')`, 10*time.Second)
	if n := evalIn[int](p, `document.querySelectorAll('#functions-table tbody tr').length`); n != 1 {
		t.Fatalf("the read token sees %d functions; want hello-console only (not resize)", n)
	}
	p.waitFor("no deploy form, and why", `document.getElementById('deploy-form').hidden
		&& document.getElementById('deploy-refused').textContent === 'The token viewer (scope read, functions hello-*) may not deploy.'`, 5*time.Second)
	if cells := evalIn[string](p, `[...document.querySelector('#functions-table tr[data-function="hello-console"]').cells].map(c => c.textContent).join('|')`); strings.Contains(cells, "Delete") || strings.Contains(cells, "null") {
		t.Fatalf("the read token's row: %q; want no delete button and no stray text", cells)
	}
	p.screenshot("10-read-token")
	p.checkNames("the read token's functions view")
	p.do("open hello-console", chromedp.Click(chromedp.CSS(`#functions-table tr[data-function="hello-console"] a`)), chromedp.WaitVisible(chromedp.ID("function-view")))
	p.waitFor("its versions, without rollback", `document.querySelectorAll('#versions-table tbody tr').length === 2 && !document.querySelector('#versions-table button')`, 10*time.Second)
	// KV: the token sees the namespaces its pattern matches (or that its
	// functions own), not the admin's "notes".
	p.do("open KV", chromedp.Click(chromedp.CSS(`.tabs a[data-view="kv"]`)))
	p.waitFor("hello-notes listed", `document.querySelector('#kv-namespaces button[data-ns="hello-notes"]')`, 10*time.Second)
	if evalIn[bool](p, `!!document.querySelector('#kv-namespaces button[data-ns="notes"]')`) {
		t.Fatal("the hello-* token sees the notes namespace")
	}
	p.do("open the hello-notes namespace", chromedp.Click(chromedp.CSS(`#kv-namespaces button[data-ns="hello-notes"]`)))
	p.do("open greeting", chromedp.Click(chromedp.CSS(`#kv-keys tr[data-key="greeting"] button`)), chromedp.WaitVisible(chromedp.ID("kv-editor")))
	p.waitFor("the value shown read-only, and why", `document.getElementById('kv-value').value === 'edited in the console' && document.getElementById('kv-value').readOnly
		&& document.getElementById('kv-save').hidden && document.getElementById('kv-delete').hidden
		&& document.getElementById('kv-refused').textContent.includes('may not change keys')`, 10*time.Second)
	p.do("open events", chromedp.Click(chromedp.CSS(`.tabs a[data-view="events"]`)))
	// A change forced from the page (as a tampered script would) is
	// refused by the admin API, naming the rule.
	fctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	refusal, err := chromedp.Run(fctx, chromedp.Evaluate[string](`api('DELETE', '/v1/functions/hello-console').then(() => 'deleted', e => e.status + ' ' + e.message)`, chromedp.EvalAwaitPromise))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(refusal, "403 ") || !strings.Contains(refusal, "the read scope allows GET only") {
		t.Fatalf("a delete forced by the read token: %q; want 403 naming the rule", refusal)
	}
	if _, err := cl.Get(ctx, "hello-console"); err != nil {
		t.Fatalf("hello-console after the refused delete: %v", err)
	}
	// Revoked: the page's next call is refused and it signs out.
	p.do("back to functions", chromedp.Click(chromedp.CSS(`.tabs a[data-view="functions"]`)), chromedp.WaitVisible(chromedp.ID("functions-view")))
	if err := cl.RevokeToken(ctx, "viewer"); err != nil {
		t.Fatal(err)
	}
	p.waitFor("signed out by the revocation", `!document.getElementById('sign-in-view').hidden
		&& document.getElementById('sign-in-error').textContent === 'Your session ended: sign in again.'`, 20*time.Second)
	p.checkPolicy("the read token's session")
	p.checkErrors()
}
