package benchmarks

import (
	"context"
	"fmt"
	"net"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/examples"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

// BenchmarkHTTP compares, in one run, a bare fasthttp handler answering
// "hello from wedge" with a wedge node serving the WAT hello example in a
// fresh instance per request. Client and server share the machine; the
// ratio between the two sub-benchmarks is the figure to read.
func BenchmarkHTTP(b *testing.B) {
	body := []byte("hello from wedge\n")
	bare := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBody(body)
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go bare.Serve(ln)
	defer bare.Shutdown()

	n, err := node.Start(context.Background(), node.Config{HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", DataDir: b.TempDir(), AdminToken: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	wasm := testutil.WAT(b, examples.HelloWAT)
	if _, _, err := n.Registry.Deploy(context.Background(), registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: "hello", Routes: []string{"/hello"}}, Wasm: wasm}); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, addr, path string }{
		{"bare-fasthttp", ln.Addr().String(), "/hello"},
		{"wedge-wat-hello", n.Gateway.PublicAddr(), "/hello"},
	} {
		for _, conns := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/conns=%d", tc.name, conns), func(b *testing.B) {
				// RunParallel starts parallelism x GOMAXPROCS goroutines, each
				// holding one connection while it waits for its answer.
				par := max(1, conns/goruntime.GOMAXPROCS(0))
				hc := &fasthttp.HostClient{Addr: tc.addr, MaxConns: par * goruntime.GOMAXPROCS(0), ReadTimeout: 10 * time.Second}
				url := "http://" + tc.addr + tc.path
				b.SetParallelism(par)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
					defer fasthttp.ReleaseRequest(req)
					defer fasthttp.ReleaseResponse(resp)
					req.SetRequestURI(url)
					for pb.Next() {
						if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 {
							b.Errorf("%v %d", err, resp.StatusCode())
							return
						}
					}
				})
			})
		}
	}
}
