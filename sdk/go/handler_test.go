package wedge

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/abi"
)

// setHandler registers h for one test.
func setHandler(t *testing.T, h http.Handler) {
	t.Helper()
	handlerMu.Lock()
	old := handler
	handler = h
	handlerMu.Unlock()
	t.Cleanup(func() {
		handlerMu.Lock()
		handler = old
		handlerMu.Unlock()
	})
}

// do serves one request through the fake host and returns wedge_handle's
// result.
func (f *fakeHost) do(t *testing.T, h http.Handler, method, uri, body string, headers ...abi.Header) int32 {
	t.Helper()
	f.install(t)
	if h != nil {
		setHandler(t, h)
	}
	f.head = encodeHead(method, uri, "fn.example", "203.0.113.9:5555", "req-42", "/api/...", headers...)
	f.body = []byte(body)
	return serve(f, int32(len(f.head)), int32(len(f.body)))
}

func (f *fakeHost) header(name string) []string {
	var vs []string
	for _, h := range f.headers {
		if h.Name == name {
			vs = append(vs, h.Value)
		}
	}
	return vs
}

func (f *fakeHost) logText() string {
	var b strings.Builder
	for _, l := range f.logs {
		b.WriteString(abi.LevelName(l.level) + ": " + l.msg + "\n")
	}
	return b.String()
}

func TestRequestDecoding(t *testing.T) {
	f := newFake()
	var got *http.Request
	var body []byte
	var bodyErr error
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, bodyErr = io.ReadAll(r.Body)
	}), "POST", "/api/users/7?name=ada&x=1&x=2", "hello body",
		abi.Header{Name: "Content-Type", Value: "text/plain"},
		abi.Header{Name: "X-Multi", Value: "a"},
		abi.Header{Name: "x-multi", Value: "b"},
		abi.Header{Name: "Host", Value: "ignored.example"},
	)
	if rc != 0 {
		t.Fatalf("rc = %d, logs:\n%s", rc, f.logText())
	}
	checks := []struct{ what, got, want string }{
		{"method", got.Method, "POST"},
		{"path", got.URL.Path, "/api/users/7"},
		{"raw query", got.URL.RawQuery, "name=ada&x=1&x=2"},
		{"query name", got.URL.Query().Get("name"), "ada"},
		{"query x", strings.Join(got.URL.Query()["x"], ","), "1,2"},
		{"request uri", got.RequestURI, "/api/users/7?name=ada&x=1&x=2"},
		{"host", got.Host, "fn.example"},
		{"remote addr", got.RemoteAddr, "203.0.113.9:5555"},
		{"proto", got.Proto, "HTTP/1.1"},
		{"content type", got.Header.Get("Content-Type"), "text/plain"},
		{"multi", strings.Join(got.Header.Values("X-Multi"), ","), "a,b"},
		{"host header", got.Header.Get("Host"), ""},
		{"request id", RequestID(got), "req-42"},
		{"route", Route(got), "/api/..."},
		{"body", string(body), "hello body"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if bodyErr != nil {
		t.Errorf("reading the body: %v", bodyErr)
	}
	if got.ContentLength != int64(len("hello body")) {
		t.Errorf("ContentLength = %d", got.ContentLength)
	}
	if got.Context().Err() == nil {
		t.Error("the request context is not cancelled after the handler returned")
	}
	if got.URL.Scheme != "" || got.URL.Host != "" {
		t.Errorf("URL = %#v, want a path-only server URL", got.URL)
	}
	if n := f.callsOf(abi.FnRequestHead); n != 1 {
		t.Errorf("request_head called %d times, want 1", n)
	}
}

func TestRequestBodyIsLazyAndChunked(t *testing.T) {
	f := newFake()
	payload := strings.Repeat("0123456789", 1000)
	var reads []int
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := f.callsOf(abi.FnRequestBody); n != 0 {
			t.Errorf("request_body called %d times before the handler read", n)
		}
		buf := make([]byte, 4096)
		var all []byte
		for {
			n, err := r.Body.Read(buf)
			reads = append(reads, n)
			all = append(all, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if string(all) != payload {
			t.Errorf("body mismatch: %d bytes", len(all))
		}
		r.Body.Close()
		if _, err := r.Body.Read(buf); !errors.Is(err, http.ErrBodyReadAfterClose) {
			t.Errorf("read after close: %v", err)
		}
	}), "PUT", "/", payload)
	if rc != 0 {
		t.Fatal(rc)
	}
	// 10000 bytes in 4096-byte reads: three host calls, the last one
	// returning io.EOF with its data (no fourth call to learn about EOF).
	if n := f.callsOf(abi.FnRequestBody); n != 3 {
		t.Errorf("request_body called %d times, want 3 (reads %v)", n, reads)
	}
}

func TestEmptyBodyIsNoBody(t *testing.T) {
	f := newFake()
	f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != http.NoBody || r.ContentLength != 0 {
			t.Errorf("Body = %T, ContentLength = %d", r.Body, r.ContentLength)
		}
	}), "GET", "/", "")
	if n := f.callsOf(abi.FnRequestBody); n != 0 {
		t.Errorf("request_body called %d times", n)
	}
}

func TestMinimalResponseIsOneCrossing(t *testing.T) {
	f := newFake()
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from wedge")
	}), "GET", "/", "")
	if rc != 0 {
		t.Fatal(rc)
	}
	if got := strings.Join(f.calls, ","); got != "request_head,response_write" {
		t.Errorf("host calls = %s", got)
	}
	if f.out.String() != "hello from wedge" || f.status != 200 {
		t.Errorf("response = %d %q", f.status, f.out.String())
	}
}

func TestEmptyResponseMakesNoCalls(t *testing.T) {
	f := newFake()
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), "GET", "/", "")
	if rc != 0 || strings.Join(f.calls, ",") != "request_head" {
		t.Errorf("rc = %d, calls = %v", rc, f.calls)
	}
}

func TestResponseHeadAndBody(t *testing.T) {
	f := newFake()
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("Content-Length", "999") // the host sets it
		w.Header().Set("X-Evil", "a\r\nInjected: yes")
		w.Header()["Bad Name"] = []string{"x"}
		w.WriteHeader(http.StatusCreated)
		w.Header().Set("X-Late", "ignored") // after WriteHeader: no effect
		w.WriteHeader(http.StatusTeapot)    // superfluous: logged, ignored
		io.WriteString(w, `{"ok":`)
		io.WriteString(w, `true}`)
	}), "POST", "/", "")
	if rc != 0 {
		t.Fatal(rc)
	}
	if f.status != 201 {
		t.Errorf("status = %d", f.status)
	}
	want := []abi.Header{
		{Name: "Content-Type", Value: "application/json"},
		{Name: "Set-Cookie", Value: "a=1"},
		{Name: "Set-Cookie", Value: "b=2"},
		{Name: "X-Evil", Value: "a  Injected: yes"},
	}
	if len(f.headers) != len(want) {
		t.Fatalf("headers = %v, want %v", f.headers, want)
	}
	for i := range want {
		if f.headers[i] != want[i] {
			t.Errorf("header %d = %v, want %v", i, f.headers[i], want[i])
		}
	}
	if f.out.String() != `{"ok":true}` {
		t.Errorf("body = %q", f.out.String())
	}
	if f.headCalls != 1 || f.writeCalls != 1 {
		t.Errorf("response_head x%d, response_write x%d; want one each", f.headCalls, f.writeCalls)
	}
	if !strings.Contains(f.logText(), "superfluous WriteHeader") {
		t.Errorf("logs:\n%s", f.logText())
	}
}

func TestContentTypeSniffing(t *testing.T) {
	cases := []struct {
		name   string
		set    func(http.Header)
		body   string
		want   []string
		status int
	}{
		{"html", nil, "<!DOCTYPE html><p>hi", []string{"text/html; charset=utf-8"}, 200},
		{"plain is the host default", nil, "just text", nil, 200},
		{"explicit", func(h http.Header) { h.Set("Content-Type", "text/csv") }, "a,b", []string{"text/csv"}, 200},
		{"suppressed", func(h http.Header) { h["Content-Type"] = nil }, "<html>", nil, 200},
		{"empty body", nil, "", nil, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.set != nil {
					c.set(w.Header())
				}
				io.WriteString(w, c.body)
			}), "GET", "/", "")
			if got := f.header("Content-Type"); strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("Content-Type = %q, want %q", got, c.want)
			}
			if f.out.String() != c.body {
				t.Errorf("body = %q", f.out.String())
			}
		})
	}
}

func TestLargeBodyIsFlushedInChunks(t *testing.T) {
	f := newFake()
	chunk := bytes.Repeat([]byte("x"), 1000)
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		for range 300 {
			if _, err := w.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
	}), "GET", "/", "")
	if rc != 0 {
		t.Fatal(rc)
	}
	if f.out.Len() != 300_000 {
		t.Errorf("body = %d bytes", f.out.Len())
	}
	// 300 kB through a 64 KiB buffer: 5 writes (4 full buffers, 1 rest).
	if f.writeCalls != 5 || f.headCalls != 1 {
		t.Errorf("response_write x%d, response_head x%d", f.writeCalls, f.headCalls)
	}
	if f.calls[1] != abi.FnResponseHead {
		t.Errorf("the head was not sent before the body: %v", f.calls[:3])
	}
}

func TestBigWriteGoesStraightThrough(t *testing.T) {
	f := newFake()
	big := bytes.Repeat([]byte("<html>"), 50_000)
	f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a")
		w.Write(big)
		io.WriteString(w, "z")
	}), "GET", "/", "")
	want := "a" + string(big) + "z"
	if f.out.String() != want {
		t.Errorf("body differs: %d bytes, want %d", f.out.Len(), len(want))
	}
	if f.writeCalls != 3 {
		t.Errorf("response_write x%d, want 3", f.writeCalls)
	}
	// Sniffed from the buffered "a" plus the start of the big write.
	if got := f.header("Content-Type"); len(got) != 0 {
		t.Errorf("Content-Type = %v, want the host default", got)
	}
}

func TestFlush(t *testing.T) {
	f := newFake()
	var flushes []int
	f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Stream", "1")
		for i := range 5 {
			io.WriteString(w, "chunk ")
			w.(http.Flusher).Flush()
			flushes = append(flushes, f.writeCalls)
			_ = i
		}
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
	}), "GET", "/", "")
	if f.out.String() != strings.Repeat("chunk ", 5) {
		t.Errorf("body = %q", f.out.String())
	}
	if f.writeCalls != 5 || f.headCalls != 1 {
		t.Errorf("response_write x%d, response_head x%d", f.writeCalls, f.headCalls)
	}
	for i, n := range flushes {
		if n != i+1 {
			t.Errorf("after flush %d: %d writes", i+1, n)
		}
	}
}

func TestFlushSendsHeadAlone(t *testing.T) {
	f := newFake()
	f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		if f.headCalls != 1 || f.status != 202 {
			t.Errorf("after Flush: head x%d, status %d", f.headCalls, f.status)
		}
	}), "GET", "/", "")
	if f.writeCalls != 0 {
		t.Errorf("response_write x%d for an empty body", f.writeCalls)
	}
}

func TestNoBodyStatuses(t *testing.T) {
	for _, code := range []int{http.StatusNoContent, http.StatusNotModified} {
		f := newFake()
		var werr error
		f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			_, werr = io.WriteString(w, "nope")
		}), "GET", "/", "")
		if !errors.Is(werr, http.ErrBodyNotAllowed) {
			t.Errorf("%d: write error = %v", code, werr)
		}
		if f.status != int32(code) || f.out.Len() != 0 {
			t.Errorf("%d: got %d %q", code, f.status, f.out.String())
		}
	}
}

func TestInformationalStatusIsDropped(t *testing.T) {
	f := newFake()
	f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusNotFound)
	}), "GET", "/", "")
	if f.status != 404 {
		t.Errorf("status = %d", f.status)
	}
}

func TestInvalidStatusPanicsInto500(t *testing.T) {
	f := newFake()
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(42)
	}), "GET", "/", "")
	if rc != 0 || f.status != 500 || !strings.Contains(f.logText(), "invalid WriteHeader code 42") {
		t.Errorf("rc %d status %d logs:\n%s", rc, f.status, f.logText())
	}
}

func TestPanicBecomes500(t *testing.T) {
	f := newFake()
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Before", "1")
		io.WriteString(w, "partial")
		panic("boom")
	}), "GET", "/explode?x=1", "")
	if rc != 0 {
		t.Errorf("rc = %d, want 0 (a 500 response was produced)", rc)
	}
	if f.status != 500 || f.out.String() != "500 Internal Server Error\n" {
		t.Errorf("response = %d %q", f.status, f.out.String())
	}
	if len(f.header("X-Before")) != 0 {
		t.Error("headers of the failed handler leaked into the 500")
	}
	logs := f.logText()
	for _, want := range []string{"error: panic serving GET /explode: boom", "goroutine ", "handler_test.go"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestPanicAfterFlushFailsTheRequest(t *testing.T) {
	f := newFake()
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "already sent")
		w.(http.Flusher).Flush()
		panic(errors.New("late"))
	}), "GET", "/", "")
	if rc == 0 {
		t.Error("rc = 0 after a panic with part of the response sent")
	}
	if !strings.Contains(f.logText(), "panic serving GET /: late") {
		t.Errorf("logs:\n%s", f.logText())
	}
}

func TestAbortHandler(t *testing.T) {
	f := newFake()
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}), "GET", "/", "")
	if rc == 0 || len(f.logs) != 0 {
		t.Errorf("rc = %d, logs:\n%s", rc, f.logText())
	}
}

func TestNoHandler(t *testing.T) {
	f := newFake()
	setHandler(t, nil)
	rc := f.do(t, nil, "GET", "/", "")
	if rc != 0 || f.status != 500 || !strings.Contains(f.logText(), "no handler registered") {
		t.Errorf("rc %d status %d logs:\n%s", rc, f.status, f.logText())
	}
}

func TestMalformedURI(t *testing.T) {
	f := newFake()
	called := false
	f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }), "GET", "no-slash", "")
	if called || f.status != 400 {
		t.Errorf("called = %v, status = %d", called, f.status)
	}
}

func TestMalformedHead(t *testing.T) {
	f := newFake()
	f.install(t)
	setHandler(t, http.NotFoundHandler())
	f.head = []byte{1, 2, 3}
	if rc := serve(f, 3, 0); rc == 0 {
		t.Error("rc = 0 for a malformed head")
	}
	f.head = abi.AppendU32(encodeHead("GET", "/", "", "", "", ""), 0)[:len(encodeHead("GET", "/", "", "", "", ""))-4]
	f.head = abi.AppendU32(f.head, 1000) // claims 1000 headers, has none
	if rc := serve(f, int32(len(f.head)), 0); rc == 0 {
		t.Error("rc = 0 for a head with a bad header count")
	}
}

func TestHeadSizeMismatchRetries(t *testing.T) {
	f := newFake()
	f.install(t)
	setHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.Path) }))
	f.head = encodeHead("GET", "/longer/than/announced", "", "", "", "")
	if rc := serve(f, 4, 0); rc != 0 || f.out.String() != "/longer/than/announced" {
		t.Errorf("rc %d body %q", rc, f.out.String())
	}
	if n := f.callsOf(abi.FnRequestHead); n != 2 {
		t.Errorf("request_head x%d, want 2", n)
	}
}

func TestResponseTooLarge(t *testing.T) {
	f := newFake()
	f.writeLimit = 100 << 10
	var werr error
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 10<<10)
		for range 20 {
			if _, werr = w.Write(buf); werr != nil {
				return
			}
		}
	}), "GET", "/", "")
	if !errors.Is(werr, ErrTooLarge) {
		t.Errorf("write error = %v", werr)
	}
	if rc == 0 {
		t.Error("rc = 0 for a response over the limit")
	}
}

func TestResponseHeadRejected(t *testing.T) {
	f := newFake()
	f.failWith[abi.FnResponseHead] = abi.ErrInvalid
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}), "GET", "/", "")
	if rc == 0 || !strings.Contains(f.logText(), "response head: invalid argument") {
		t.Errorf("rc %d logs:\n%s", rc, f.logText())
	}
}

func TestTooManyHeaders(t *testing.T) {
	f := newFake()
	rc := f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range abi.MaxHeaders + 1 {
			w.Header().Add("X-Many", string(rune('a'+i%26)))
		}
	}), "GET", "/", "")
	if rc == 0 || f.headCalls != 0 {
		t.Errorf("rc %d, response_head x%d", rc, f.headCalls)
	}
}

func TestWriteAfterHandlerReturned(t *testing.T) {
	f := newFake()
	var saved http.ResponseWriter
	f.do(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { saved = w }), "GET", "/", "")
	if _, err := io.WriteString(saved, "late"); err == nil {
		t.Error("a write after the handler returned succeeded")
	}
	if f.writeCalls != 0 {
		t.Errorf("response_write x%d", f.writeCalls)
	}
}

func TestServeMuxPatterns(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "posted "+r.PathValue("id")+" via "+r.Pattern)
	})
	mux.HandleFunc("GET /files/{path...}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "file "+r.PathValue("path"))
	})
	cases := []struct {
		method, uri string
		status      int32
		body        string
		allow       string
	}{
		{"POST", "/messages/17", 200, "posted 17 via POST /messages/{id}", ""},
		{"GET", "/files/a/b.txt", 200, "file a/b.txt", ""},
		{"GET", "/messages/17", 405, "Method Not Allowed\n", "POST"},
		{"GET", "/nowhere", 404, "404 page not found\n", ""},
	}
	for _, c := range cases {
		f := newFake()
		f.do(t, mux, c.method, c.uri, "")
		if f.status != c.status || f.out.String() != c.body {
			t.Errorf("%s %s = %d %q, want %d %q", c.method, c.uri, f.status, f.out.String(), c.status, c.body)
		}
		if got := strings.Join(f.header("Allow"), ","); got != c.allow {
			t.Errorf("%s %s: Allow = %q, want %q", c.method, c.uri, got, c.allow)
		}
	}
}

func TestHandleRejectsNil(t *testing.T) {
	for name, fn := range map[string]func(){
		"Handle":     func() { Handle(nil) },
		"HandleFunc": func() { HandleFunc(nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s(nil) did not panic", name)
				}
			}()
			fn()
		}()
	}
}

func TestHandleFuncRegisters(t *testing.T) {
	setHandler(t, nil)
	HandleFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "registered") })
	f := newFake()
	f.do(t, nil, "GET", "/", "")
	if f.out.String() != "registered" {
		t.Errorf("body = %q", f.out.String())
	}
}
