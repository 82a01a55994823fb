package runtime

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/benchguest"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
)

// BenchmarkOutboundCall compares, in one run against one local server,
// one outbound GET from a guest (an invocation with http_send,
// http_response_head, http_response_read, http_close) with the same GET
// from native Go through the same client, through a plain net/http
// client, and with an invocation that sends nothing (helloWAT). The
// per-call overhead of the host calls is guest - invoke_only - outbound_native.
//
//	go test -run '^$' -bench BenchmarkOutboundCall -benchtime 2000x ./internal/runtime/
func BenchmarkOutboundCall(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "pong")
	}))
	defer srv.Close()
	cl, err := outbound.New(outbound.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.CloseIdle()
	allow, _ := outbound.ParseAllowList([]string{srv.URL})
	p := outbound.Policy{Function: "bench", Allow: allow}.WithDefaults()
	e := newEngine(b)
	// A one-page guest with the request in a data segment: its instance
	// costs what helloWAT's does, so the difference is the call (the
	// guest the benchmark suite's outbound scenario measures too).
	req := abi.EncodeOutboundRequest(nil, "GET", srv.URL+"/", nil)
	fetch := compile(b, e, wat(b, benchguest.OutboundFetchWAT(req)))
	hello := compile(b, e, wat(b, helloWAT))
	env := NewEnv("bench", nil, Limits{})
	env.Outbound, env.OutboundPolicy = cl, &p

	b.Run("guest", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c := NewCall()
			c.Env = env
			if err := fetch.Invoke(c); err != nil || string(c.Output) != "pong" {
				b.Fatalf("%v %q", err, c.Output)
			}
			c.Release()
		}
	})
	b.Run("invoke_only", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c := NewCall()
			c.Env = env
			if err := hello.Invoke(c); err != nil {
				b.Fatal(err)
			}
			c.Release()
		}
	})
	b.Run("outbound_native", func(b *testing.B) {
		buf := make([]byte, 64<<10)
		for i := 0; i < b.N; i++ {
			r, err := cl.Do(context.Background(), &p, &outbound.Request{Method: "GET", URL: srv.URL + "/"})
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := r.Read(buf); err != nil {
					break
				}
			}
			r.Close()
		}
	})
	b.Run("nethttp_native", func(b *testing.B) {
		hc := &http.Client{Transport: &http.Transport{}}
		defer hc.CloseIdleConnections()
		for i := 0; i < b.N; i++ {
			resp, err := hc.Get(srv.URL + "/")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
