package benchmarks

import (
	"context"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/examples"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/internal/tracing"
	"github.com/wedge-run/wedge/model"
)

// BenchmarkHTTPTracing serves the WAT hello through the public gateway
// of a node with tracing off and of one with every request traced into
// the in-memory ring (no exporter), one connection; allocations per op
// count the server's and the client's (the client's are the same in
// both). Compare: go test -bench HTTPTracing -benchmem.
func BenchmarkHTTPTracing(b *testing.B) {
	for _, tc := range []struct {
		name   string
		sample float64
	}{{"off", 0}, {"on", 1}} {
		b.Run(tc.name, func(b *testing.B) {
			n, err := node.Start(context.Background(), node.Config{HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", DataDir: b.TempDir(), AdminToken: "bench",
				Trace: tracing.Config{Sample: tc.sample}})
			if err != nil {
				b.Fatal(err)
			}
			defer n.Close()
			if (n.Tracer != nil) != (tc.sample > 0) {
				b.Fatalf("tracer %v with sample %v", n.Tracer, tc.sample)
			}
			if _, _, err := n.Registry.Deploy(context.Background(), registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: "hello", Routes: []string{"/hello"}}, Wasm: testutil.WAT(b, examples.HelloWAT)}); err != nil {
				b.Fatal(err)
			}
			hc := &fasthttp.HostClient{Addr: n.Gateway.PublicAddr(), ReadTimeout: 10 * time.Second}
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI("http://" + n.Gateway.PublicAddr() + "/hello")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 {
					b.Fatalf("%v %d", err, resp.StatusCode())
				}
			}
		})
	}
}
