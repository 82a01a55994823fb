package wedge

import (
	"io"
	"net/http"

	"github.com/wedge-run/wedge/abi"
)

// warmUp serves one made-up request through the SDK's whole request path
// (head decoding, URL and query parsing, header lookups, the
// ResponseWriter, content sniffing, header encoding) with a handler of
// its own and an in-memory host, never the function's handler nor the
// real host. It runs from init, in _initialize: wedge snapshots a module
// after _initialize at deploy time, so what Go initializes on first use
// along that path (allocator spans of the sizes a request allocates,
// interface tables, godebug settings, the URL and sniffing tables) is in
// the snapshot, and each request, which runs in a fresh copy of the
// snapshot, no longer pays for it. The garbage it leaves is a few KiB.
func warmUp() {
	h := &warmHost{head: warmHead()}
	serveWith(h, func() http.Handler { return warmHandler }, int32(len(h.head)), 0)
}

var warmHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_ = r.URL.Query().Get("name")
	_ = r.Header.Get("Accept")
	w.Header().Set("X-Warm", "1")
	io.WriteString(w, "warm "+r.Method+" "+r.URL.Path+"\n")
})

func warmHead() []byte {
	b := abi.AppendString(nil, "GET")
	b = abi.AppendString(b, "/warm/path?name=wedge&x=1")
	b = abi.AppendString(b, "localhost")
	b = abi.AppendString(b, "127.0.0.1:1")
	b = abi.AppendString(b, "warm-up")
	b = abi.AppendString(b, "/warm/...")
	b = abi.AppendU32(b, 2)
	b = abi.AppendString(b, "accept")
	b = abi.AppendString(b, "*/*")
	b = abi.AppendString(b, "user-agent")
	b = abi.AppendString(b, "wedge")
	return b
}

// warmHost answers the request head and swallows the response; every
// other call is refused, so nothing reaches the real host.
type warmHost struct {
	noHostCalls
	head    []byte
	written int
}

func (w *warmHost) requestHead(buf []byte) int32 { copy(buf, w.head); return int32(len(w.head)) }
func (w *warmHost) requestBody([]byte) int32     { return 0 }
func (w *warmHost) responseHead(int32, []byte) int32 {
	return 0
}
func (w *warmHost) responseWrite(b []byte) int32 { w.written += len(b); return int32(len(b)) }
func (w *warmHost) log(int32, string) int32      { return 0 }

// noHostCalls refuses every host call; embed it and override.
type noHostCalls struct{}

const refused = -int32(abi.ErrUnsupported)

func (noHostCalls) requestHead([]byte) int32                           { return refused }
func (noHostCalls) requestBody([]byte) int32                           { return refused }
func (noHostCalls) responseHead(int32, []byte) int32                   { return refused }
func (noHostCalls) responseWrite([]byte) int32                         { return refused }
func (noHostCalls) log(int32, string) int32                            { return refused }
func (noHostCalls) configGet(string, []byte) int32                     { return refused }
func (noHostCalls) kvGet(string, string, []byte, *uint64) int32        { return refused }
func (noHostCalls) kvPut(string, string, []byte, int64, int64) int64   { return int64(refused) }
func (noHostCalls) kvDelete(string, string, int64) int32               { return refused }
func (noHostCalls) kvIncrement(string, string, int64, *int64) int32    { return refused }
func (noHostCalls) kvList(string, string, string, int32, []byte) int32 { return refused }
func (noHostCalls) eventGet([]byte) int32                              { return refused }
func (noHostCalls) queuePublish(string, []byte) int32                  { return refused }
func (noHostCalls) objectRead(string, string, int64, []byte) int64     { return int64(refused) }
