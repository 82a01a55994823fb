package wedge

import (
	"io"
	"net/http"
	"testing"

	"github.com/wedge-run/wedge/abi"
)

// benchHost answers a fixed request head and discards the response, like
// warmHost, without recording anything.
type benchHost struct {
	noHostCalls
	head []byte
}

func (b *benchHost) requestHead(buf []byte) int32 { copy(buf, b.head); return int32(len(b.head)) }
func (b *benchHost) requestBody([]byte) int32     { return 0 }
func (b *benchHost) responseHead(int32, []byte) int32 {
	return 0
}
func (b *benchHost) responseWrite(p []byte) int32 { return int32(len(p)) }
func (b *benchHost) log(int32, string) int32      { return 0 }

// helloHandler is examples/go-hello's handler.
func helloHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	msg := "hello from wedge"
	if name := r.URL.Query().Get("name"); name != "" {
		msg += ", " + name
	}
	io.WriteString(w, msg+"\n")
}

// BenchmarkServeHello is the SDK's share of a Go hello request, natively:
// head decoding, the *http.Request, the handler, the response encoding.
// allocs/op is what each request allocates inside the guest (a wasm
// instance allocates the same; its time per op is several times this).
func BenchmarkServeHello(b *testing.B) {
	benchServe(b, encodeHead("GET", "/go/hello?name=bench", "127.0.0.1", "127.0.0.1:1", "bench", "/go/hello"))
}

// BenchmarkServeHelloHeaders is BenchmarkServeHello with the headers a
// fasthttp client sends (the benchmark suite's load generator) and two a
// browser would add, with the canonical names the gateway passes on.
func BenchmarkServeHelloHeaders(b *testing.B) {
	benchServe(b, encodeHead("GET", "/go/hello?name=bench", "127.0.0.1", "127.0.0.1:1", "bench", "/go/hello",
		abi.Header{Name: "Host", Value: "127.0.0.1:8080"}, abi.Header{Name: "User-Agent", Value: "fasthttp"},
		abi.Header{Name: "Accept", Value: "*/*"}, abi.Header{Name: "Accept-Encoding", Value: "gzip"}))
}

// benchServe serves the hello handler the request of head, b.N times.
func benchServe(b *testing.B, head []byte) {
	h := &benchHost{head: head}
	hd := http.HandlerFunc(helloHandler)
	get := func() http.Handler { return hd }
	b.ReportAllocs()
	for b.Loop() {
		if rc := serveWith(h, get, int32(len(head)), 0); rc != 0 {
			b.Fatal(rc)
		}
	}
}
