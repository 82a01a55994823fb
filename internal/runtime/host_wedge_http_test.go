package runtime

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
)

// fetchWAT is the ABI example for outbound HTTP (testdata/fetch.wat).
var fetchWAT = func() string {
	b, err := os.ReadFile("testdata/fetch.wat")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

type fetchEnv struct {
	t      *testing.T
	m      *Module
	client *outbound.Client
	logs   *memLogs
}

func newFetch(t *testing.T, cfg outbound.Config) *fetchEnv {
	t.Helper()
	if cfg.Resolver == nil {
		cfg.Resolver = func(ctx context.Context, host string) ([]netip.Addr, error) {
			if strings.HasSuffix(host, ".test") {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
	}
	cl, err := outbound.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.CloseIdle)
	e := newEngine(t)
	return &fetchEnv{t: t, m: compile(t, e, wat(t, fetchWAT)), client: cl, logs: &memLogs{}}
}

func (f *fetchEnv) env(limits Limits, p outbound.Policy, allow ...string) *Env {
	f.t.Helper()
	l, err := outbound.ParseAllowList(allow)
	if err != nil {
		f.t.Fatal(err)
	}
	p.Allow = l
	p.Function = "fetch"
	p = p.WithDefaults()
	env := NewEnv("fetch", nil, limits)
	env.Logs = f.logs
	env.Outbound = f.client
	env.OutboundPolicy = &p
	return env
}

// fetchBody builds the guest's request body.
func fetchBody(method, url string, hs []abi.Header, body []byte) []byte {
	req := abi.EncodeOutboundRequest(nil, method, url, hs)
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(req)))
	out = append(out, req...)
	return append(out, body...)
}

func (f *fetchEnv) do(env *Env, method, url string, hs []abi.Header, body []byte) (*Call, error) {
	f.t.Helper()
	c := NewCall()
	c.Env = env
	c.RequestID = "req-1"
	c.Body = fetchBody(method, url, hs, body)
	err := f.m.Invoke(c)
	f.t.Cleanup(c.Release)
	return c, err
}

func respHeader(c *Call, name string) string {
	var v string
	_ = abi.DecodeHeaders(c.Headers, func(n, val []byte) error {
		if strings.EqualFold(string(n), name) {
			v = string(val)
		}
		return nil
	})
	return v
}

func TestOutboundGetPostHTTPAndHTTPS(t *testing.T) {
	big := make([]byte, 1<<20)
	rand.Read(big)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Got-Header", r.Header.Get("X-Guest"))
		w.Header().Set("X-Request-Id-Seen", r.Header.Get("X-Request-Id"))
		w.Header().Set("X-Traceparent-Seen", r.Header.Get("Traceparent"))
		switch r.Method {
		case "POST":
			w.WriteHeader(201)
			w.Write(got) // echo 1 MiB
		default:
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			w.WriteHeader(203)
			w.Write(big)
		}
	})
	plain := httptest.NewServer(handler)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(handler)
	defer tlsSrv.Close()
	roots := tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	f := newFetch(t, outbound.Config{RootCAs: roots})
	env := f.env(Limits{}, outbound.Policy{}, plain.URL, tlsSrv.URL)

	for _, base := range []string{plain.URL, tlsSrv.URL} {
		hs := []abi.Header{{Name: "X-Guest", Value: "from-guest"}}
		c, err := f.do(env, "GET", base+"/big", hs, nil)
		if err != nil {
			t.Fatalf("%s GET: %v", base, err)
		}
		if c.Status != 203 || !bytes.Equal(c.Output, big) {
			t.Fatalf("%s GET: status %d, %d bytes", base, c.Status, len(c.Output))
		}
		if respHeader(c, "X-Got-Header") != "from-guest" || respHeader(c, "X-Request-Id-Seen") != "req-1" {
			t.Fatalf("%s: headers did not travel both ways: %q", base, c.Headers)
		}
		if tp := respHeader(c, "X-Traceparent-Seen"); len(tp) != 55 || !strings.HasPrefix(tp, "00-") {
			t.Fatalf("%s: traceparent %q", base, tp)
		}
		c, err = f.do(env, "POST", base+"/echo", nil, big)
		if err != nil {
			t.Fatalf("%s POST: %v", base, err)
		}
		if c.Status != 201 || !bytes.Equal(c.Output, big) {
			t.Fatalf("%s POST: status %d, %d bytes back", base, c.Status, len(c.Output))
		}
	}
	// Without the test CA, the HTTPS server's certificate is refused.
	f2 := newFetch(t, outbound.Config{})
	c, err := f2.do(f2.env(Limits{}, outbound.Policy{}, tlsSrv.URL), "GET", tlsSrv.URL, nil, nil)
	if err != nil || c.Status != 600+int(abi.ErrNetwork) {
		t.Fatalf("unknown CA: %v, status %d", err, c.Status)
	}
}

func TestOutboundStatusAndChunked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.Error(w, "nope", 404)
			return
		}
		w.WriteHeader(200)
		for i := 0; i < 5; i++ {
			fmt.Fprintf(w, "chunk%d;", i)
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	f := newFetch(t, outbound.Config{})
	env := f.env(Limits{}, outbound.Policy{}, srv.URL)
	c, err := f.do(env, "GET", srv.URL+"/missing", nil, nil)
	if err != nil || c.Status != 404 || !strings.Contains(string(c.Output), "nope") {
		t.Fatalf("404: %v %d %q", err, c.Status, c.Output)
	}
	c, err = f.do(env, "GET", srv.URL+"/chunked", nil, nil)
	if err != nil || c.Status != 200 || string(c.Output) != "chunk0;chunk1;chunk2;chunk3;chunk4;" {
		t.Fatalf("chunked: %v %d %q", err, c.Status, c.Output)
	}
}

func TestOutboundResponseLimit(t *testing.T) {
	sent := make(chan int64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64<<10)
		var n int64
		defer func() { sent <- n }()
		for n < 100<<20 { // 100 MiB, chunked
			m, err := w.Write(buf)
			n += int64(m)
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	f := newFetch(t, outbound.Config{})
	env := f.env(Limits{}, outbound.Policy{MaxResponseBytes: 1 << 20}, srv.URL)
	c, err := f.do(env, "GET", srv.URL, nil, nil)
	if err != nil || c.Status != 600+int(abi.ErrTooLarge) {
		t.Fatalf("100 MiB response: %v, status %d, %d bytes", err, c.Status, len(c.Output))
	}
	if len(c.Output) > 1<<20 {
		t.Fatalf("the guest got %d bytes, over the limit", len(c.Output))
	}
	if n := <-sent; n >= 100<<20 {
		t.Fatalf("the server sent the whole 100 MiB: the connection was not dropped")
	}
	if l := f.logs.all(); !strings.Contains(l, "over the function's limit") {
		t.Fatalf("no log line for the refused response: %q", l)
	}
}

func TestOutboundTimeouts(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	f := newFetch(t, outbound.Config{})

	// The request's own timeout: an error code, the function goes on.
	env := f.env(Limits{Timeout: 10 * time.Second}, outbound.Policy{Timeout: 200 * time.Millisecond}, srv.URL)
	start := time.Now()
	c, err := f.do(env, "GET", srv.URL+"/slow", nil, nil)
	if err != nil || c.Status != 600+int(abi.ErrTimedOut) {
		t.Fatalf("slow server: %v, status %d", err, c.Status)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the slow request took %v", d)
	}

	// The function's deadline stops a guest waiting on a server that never
	// answers, though the request's own timeout is longer.
	env = f.env(Limits{Timeout: 300 * time.Millisecond}, outbound.Policy{Timeout: time.Minute}, srv.URL)
	start = time.Now()
	_, err = f.do(env, "GET", srv.URL+"/never", nil, nil)
	var ge *GuestError
	if !errors.As(err, &ge) || !errors.Is(ge.Kind, ErrTimeout) {
		t.Fatalf("never-answering server: got %v, want a time-limit error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the function ran %v past a 300ms limit", d)
	}
}

func TestOutboundRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://elsewhere.test:1/", http.StatusFound)
			return
		}
		io.WriteString(w, "reached")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a guest reached the admin port")
	}))
	defer admin.Close()
	adminAddr := strings.TrimPrefix(admin.URL, "http://")
	_, adminPort, _ := net.SplitHostPort(adminAddr)
	f := newFetch(t, outbound.Config{Protected: []string{adminAddr}})
	denied := 600 + int(abi.ErrDenied)

	cases := []struct {
		name   string
		allow  []string
		url    string
		status int
		log    string
	}{
		{"not listed", nil, srv.URL + "/", denied, "http://127.0.0.1:" + port},
		{"port mismatch", []string{"http://127.0.0.1:1"}, srv.URL + "/", denied, "not on the function's allowed_hosts"},
		{"wildcard", []string{"http://*.svc.test:" + port, srv.URL}, "http://api.svc.test:" + port + "/", 200, ""},
		{"hostname to 127.0.0.1", []string{"http://api.svc.test:" + port}, "http://api.svc.test:" + port + "/", denied, "api.svc.test resolves to 127.0.0.1:" + port},
		{"redirect to an unlisted host", []string{srv.URL}, srv.URL + "/redirect", denied, "http://elsewhere.test:1"},
		{"admin port", []string{srv.URL, "http://127.0.0.1:" + adminPort}, admin.URL + "/v1/functions", denied, "admin port"},
	}
	for _, tc := range cases {
		f.logs = &memLogs{}
		c, err := f.do(f.env(Limits{}, outbound.Policy{}, tc.allow...), "GET", tc.url, nil, nil)
		if err != nil || c.Status != tc.status {
			t.Errorf("%s: %v, status %d %q", tc.name, err, c.Status, c.Output)
			continue
		}
		if tc.log != "" {
			if l := f.logs.all(); !strings.Contains(l, "refused") || !strings.Contains(l, tc.log) {
				t.Errorf("%s: log %q does not name %q", tc.name, l, tc.log)
			}
		}
	}
}

func TestOutboundNoCapability(t *testing.T) {
	f := newFetch(t, outbound.Config{})
	env := NewEnv("fetch", nil, Limits{})
	c, err := f.do(env, "GET", "http://127.0.0.1:1/", nil, nil)
	if err != nil || c.Status != 600+int(abi.ErrUnsupported) {
		t.Fatalf("no outbound client: %v %d", err, c.Status)
	}
	// Per-invocation budget.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c, err = f.do(f.env(Limits{}, outbound.Policy{MaxRequests: 1}, srv.URL), "GET", srv.URL, nil, nil)
	if err != nil || c.Status != 200 {
		t.Fatalf("within the budget: %v %d", err, c.Status)
	}
}

// 1,000 outbound calls from 50 concurrent invocations leave no
// goroutines or connections behind.
func TestOutboundManyConcurrentNoLeaks(t *testing.T) {
	var conns sync.Map
	var open int64
	var mu sync.Mutex
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "pong")
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			conns.Store(c, true)
			open++
		case http.StateClosed, http.StateHijacked:
			open--
		}
	}
	srv.Start()
	defer srv.Close()
	f := newFetch(t, outbound.Config{MaxConnsPerHost: 16})
	env := f.env(Limits{}, outbound.Policy{}, srv.URL)
	// Warm up, then take the baseline.
	if c, err := f.do(env, "GET", srv.URL, nil, nil); err != nil || string(c.Output) != "pong" {
		t.Fatalf("warm-up: %v", err)
	}
	f.client.CloseIdle()
	eventually(t, 5*time.Second, "warm-up connection closed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return open == 0
	})
	base := runtime.NumGoroutine()

	var wg sync.WaitGroup
	var failures sync.Map
	work := make(chan int, 1000)
	for i := 0; i < 1000; i++ {
		work <- i
	}
	close(work)
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c := NewCall()
				c.Env = env
				c.Body = fetchBody("GET", fmt.Sprintf("%s/%d", srv.URL, i), nil, nil)
				err := f.m.Invoke(c)
				if err != nil || c.Status != 200 || string(c.Output) != "pong" {
					failures.Store(i, fmt.Sprintf("%v %d %q", err, c.Status, c.Output))
				}
				c.Release()
			}
		}()
	}
	wg.Wait()
	failures.Range(func(k, v any) bool {
		t.Errorf("call %v: %v", k, v)
		return false
	})
	mu.Lock()
	peak := 0
	conns.Range(func(any, any) bool { peak++; return true })
	mu.Unlock()
	if peak > 16+1 {
		t.Errorf("%d connections opened to one host, over the bound of 16", peak)
	}
	f.client.CloseIdle()
	eventually(t, 5*time.Second, "every connection closed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return open == 0
	})
	eventually(t, 5*time.Second, "goroutines back to the baseline", func() bool {
		return runtime.NumGoroutine() <= base+2
	})
}

// eventually waits for cond (internal/testutil cannot be imported here:
// it imports this package through package node).
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An incoming traceparent is continued: same trace id, a new parent id.
func TestOutboundContinuesTrace(t *testing.T) {
	seen := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Traceparent")
	}))
	defer srv.Close()
	f := newFetch(t, outbound.Config{})
	const in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	var head []byte
	for _, s := range []string{"POST", "/fetch", "h", "127.0.0.1:1", "req-9", "/fetch"} {
		head = abi.AppendString(head, s)
	}
	head = abi.EncodeHeaders(head, []abi.Header{{Name: "Traceparent", Value: in}})
	c := NewCall()
	defer c.Release()
	c.Env = f.env(Limits{}, outbound.Policy{}, srv.URL)
	c.Head = append(c.Head[:0], head...)
	c.Body = fetchBody("GET", srv.URL, nil, nil)
	if err := f.m.Invoke(c); err != nil || c.Status != 200 {
		t.Fatalf("%v %d", err, c.Status)
	}
	got := <-seen
	if len(got) != len(in) || got[:36] != in[:36] || got[36:52] == in[36:52] || got[52:] != in[52:] {
		t.Fatalf("traceparent forwarded as %q from %q", got, in)
	}
}

// Event entries use the same calls, and an invocation's request budget
// is enforced: with outbound_max_requests 1 the second send is -9 (busy).
func TestOutboundFromEventEntryAndBudget(t *testing.T) {
	var hits sync.WaitGroup
	hits.Add(1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Done() }))
	defer srv.Close()
	req := abi.EncodeOutboundRequest(nil, "POST", srv.URL+"/hook", nil)
	var data strings.Builder
	for _, ch := range req {
		fmt.Fprintf(&data, "\\%02x", ch)
	}
	e := newEngine(t)
	m := compile(t, e, wat(t, fmt.Sprintf(`(module
  (import "wedge_v1" "http_send" (func $send (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "%s")
  (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0))
  (func (export "wedge_event") (param i32) (result i32)
    (if (i32.lt_s (call $send (i32.const 1024) (i32.const %d) (i32.const 0) (i32.const 0)) (i32.const 1))
      (then (return (i32.const 1))))
    (if (i32.ne (call $send (i32.const 1024) (i32.const %d) (i32.const 0) (i32.const 0)) (i32.const -9))
      (then (return (i32.const 2))))
    (i32.const 0)))`, data.String(), len(req), len(req))))
	f := &fetchEnv{t: t, m: m, logs: &memLogs{}}
	cl, err := outbound.New(outbound.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.CloseIdle()
	f.client = cl
	c := NewCall()
	defer c.Release()
	c.Env = f.env(Limits{}, outbound.Policy{MaxRequests: 1}, srv.URL)
	c.Event = []byte(`{"kind":"queue"}`)
	if err := m.Invoke(c); err != nil {
		t.Fatalf("event entry: %v", err)
	}
	hits.Wait()
	if l := f.logs.all(); !strings.Contains(l, "already sent 1 requests") {
		t.Fatalf("no log line for the spent budget: %q", l)
	}
}
