package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/events"
	"github.com/wedge-run/wedge/internal/fuzzseed"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/logs"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/storage"
)

// FuzzDeployQuery: the query of PUT /v1/functions/{name} decodes to a
// deploy request or to errBadRequest; every limit it carries is the
// number the client sent, in its unit, never a wrapped one (a wrapped
// limit reads as "unset" and the function silently gets the default).
func FuzzDeployQuery(f *testing.F) {
	for _, q := range []string{
		"route=/a&route=/b/...",
		"route=/x&timeout_ms=2500&memory_mb=64&max_response_bytes=1024&max_concurrency=4",
		"config=A=1&config=B=&secret=TOKEN=s3cret&kv_namespace=app&kv_grant=other&app=chat&affinity=path:2",
		`trigger={"kind":"queue","queue":"jobs"}&snapshot=false`,
		"memory_mb=-1",
		"config==x",
		"snapshot=maybe",
		"memory_mb=8796093022208", // 2^43 MiB: the byte count wrapped to a negative
		"timeout_ms=18446744073710",
	} {
		fuzzseed.Add(f, q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil) // as a server would: handlers use it as a context.Context
		ctx.Request.SetRequestURI("/v1/functions/f?" + q)
		req, err := deployRequest(&ctx, "f")
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("error %v is not errBadRequest", err)
			}
			return
		}
		args := ctx.QueryArgs()
		if n := len(args.PeekMulti("route")); len(req.Routes) != n {
			t.Fatalf("%d routes from %d route args", len(req.Routes), n)
		}
		sent := func(key string) int64 {
			n, _ := strconv.ParseInt(string(args.Peek(key)), 10, 64)
			return n
		}
		if mb := sent("memory_mb"); req.Limits.MemoryBytes < 0 || req.Limits.MemoryBytes>>20 != mb {
			t.Fatalf("memory_mb=%d became %d bytes", mb, req.Limits.MemoryBytes)
		}
		if ms := req.Limits.TimeoutMS; ms != sent("timeout_ms") || time.Duration(ms)*time.Millisecond/time.Millisecond != time.Duration(ms) {
			t.Fatalf("timeout_ms=%d does not fit a duration", ms)
		}
		for k := range req.Config {
			if k == "" {
				t.Fatal("empty config key")
			}
		}
	})
}

const fuzzToken = "fuzz-token"

// fuzzServer is an admin API over a real store, engine, registry and KV
// store, served without listeners.
func fuzzServer(f *testing.F) *Server {
	dir := f.TempDir()
	db, err := storage.Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	engine, err := runtime.NewEngine(runtime.Config{CacheDir: dir + "/artifacts", PoolInstances: 8})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(engine.Close)
	st, err := kv.Open(db.Bolt(), kv.Options{NodeID: "fuzz", PurgeInterval: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	ev, err := events.Open(events.Options{DB: db.Bolt(), Invoker: noInvoker{}, ObjectsDir: dir + "/objects", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(ev.Close)
	lg := logs.New(100)
	reg := registry.New(registry.Options{Engine: engine, DB: db, Logs: lg, Node: "fuzz"})
	f.Cleanup(func() { reg.Close() })
	s, err := New(Config{AdminToken: fuzzToken, MaxModuleBytes: 1 << 20}, Deps{Registry: reg, Engine: engine, Logs: lg, DB: db, Events: ev,
		Admin: append(KVRoutes(st), EventRoutes(ev, 1<<20)...)})
	if err != nil {
		f.Fatal(err)
	}
	return s
}

// noInvoker delivers no event: the admin API only stores them.
type noInvoker struct{}

func (noInvoker) InvokeEvent(context.Context, string, []byte) error { return nil }

const fuzzWAT = `(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (drop (call $write (i32.const 16) (i32.const 5)))
    (i32.const 0)))`

// appUpload is the multipart body `wedge deploy` sends for an app.
func appUpload(f *testing.F, spec string, modules map[string][]byte) (string, []byte) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.SetBoundary("wedge-fuzz-boundary"); err != nil { // a stable seed corpus
		f.Fatal(err)
	}
	if err := w.WriteField("spec", spec); err != nil {
		f.Fatal(err)
	}
	for name, m := range modules {
		p, err := w.CreateFormFile("module/"+name, name+".wasm")
		if err != nil {
			f.Fatal(err)
		}
		p.Write(m)
	}
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

// FuzzAdminAPI: any authorized admin request (method, path and query,
// content type, body) gets an answer that is not a 500, with a JSON body
// {"error", "code"} for every error status. A 500 is the node's fault,
// and no client input may cause one.
func FuzzAdminAPI(f *testing.F) {
	wasm, err := wasmtime.Wat2Wasm(fuzzWAT)
	if err != nil {
		f.Fatal(err)
	}
	spec := `{"spec_version":1,"app":{"name":"demo"},"functions":{"hello":{"module":"hello.wasm","routes":["/hello"]}}}`
	ct, body := appUpload(f, spec, map[string][]byte{"hello": wasm})
	for _, s := range []struct {
		method, uri, ct string
		body            []byte
	}{
		{"PUT", "/v1/functions/hello?route=/hello&memory_mb=16&timeout_ms=1000", "application/wasm", wasm},
		{"PUT", "/v1/functions/bad?route=/bad", "application/wasm", []byte("\x00asm\x01\x00\x00\x00\x01")},
		{"GET", "/v1/functions/hello", "", nil},
		{"GET", "/v1/functions/hello/logs?after=3&limit=10", "", nil},
		{"DELETE", "/v1/functions/hello", "", nil},
		{"PUT", "/v1/apps/demo", ct, body},
		{"PUT", "/v1/apps/other", ct, body},
		{"GET", "/v1/apps/demo", "", nil},
		{"PUT", "/v1/kv/app/k?ttl=10&if-version=0", "application/octet-stream", []byte("v")},
		{"POST", "/v1/kv/app/n?increment=-3", "", nil},
		{"GET", "/v1/kv/app?prefix=k&limit=2&values=1", "", nil},
		{"GET", "/v1/kv/app?cursor=" + url.QueryEscape("AWsx"), "", nil},
		{"DELETE", "/v1/kv/app/k?if-version=9", "", nil},
		{"GET", "/v1/kv", "", nil},
		{"GET", "/v1/scheduler", "", nil},
		{"POST", "/v1/queues/jobs", "application/json", []byte(`{"n":1}`)},
		{"GET", "/v1/queues/jobs/dead", "", nil},
		{"POST", "/v1/queues/jobs/dead/replay?id=1", "", nil},
		{"GET", "/v1/events/dead?function=hello", "", nil},
		{"POST", "/v1/events/dead/replay?function=hello", "", nil},
		{"PUT", "/v1/buckets/photos/a/b.jpg", "image/jpeg", []byte("\xff\xd8\xff")},
		{"GET", "/v1/buckets/photos?prefix=a/", "", nil},
		{"GET", "/v1/buckets/photos/a/b.jpg", "", nil},
		{"DELETE", "/v1/buckets/photos/a/b.jpg", "", nil},
		{"GET", "/metrics", "", nil},
	} {
		fuzzseed.Add(f, s.method, s.uri, s.ct, s.body)
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, method, uri, contentType string, body []byte) {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil) // as a server would: handlers use it as a context.Context
		ctx.Request.Header.SetMethod(method)
		ctx.Request.SetRequestURI(uri)
		ctx.Request.Header.SetContentType(contentType)
		ctx.Request.Header.Set("Authorization", "Bearer "+fuzzToken)
		ctx.Request.SetBody(body)
		s.serveAdmin(&ctx)
		status := ctx.Response.StatusCode()
		if status >= 500 {
			t.Fatalf("%s %q (%q, %d bytes): %d %s", method, uri, contentType, len(body), status, ctx.Response.Body())
		}
		if status >= 400 {
			var e struct{ Error, Code string }
			if err := json.Unmarshal(ctx.Response.Body(), &e); err != nil || e.Error == "" || e.Code == "" {
				t.Fatalf("%s %q: %d with body %q", method, uri, status, ctx.Response.Body())
			}
			if strings.Contains(e.Error, "Stack backtrace") {
				t.Fatalf("%s %q: error carries host internals: %q", method, uri, e.Error)
			}
		}
	})
}
