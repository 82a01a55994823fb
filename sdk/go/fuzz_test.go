package wedge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/wedge-run/wedge/abi"
)

// addSeed adds b to f's corpus and, with WEDGE_FUZZ_WRITE_SEEDS=1, writes
// it under testdata/fuzz/<target>/ (the SDK module's copy of the host's
// internal/fuzzseed, which it cannot import).
func addSeed(f *testing.F, b []byte) {
	f.Helper()
	f.Add(b)
	if os.Getenv("WEDGE_FUZZ_WRITE_SEEDS") != "1" {
		return
	}
	data := []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n")
	dir := filepath.Join("testdata", "fuzz", f.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	name := fmt.Sprintf("seed-%x", sha256.Sum256(data))[:21]
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		f.Fatal(err)
	}
}

// FuzzNewRequest: a request head from the host either decodes or is
// abi.ErrMalformed, never a panic or a huge allocation; what decodes
// carries exactly the strings encoded, and every header pair of the
// input lands in Header (Host moved to Request.Host).
func FuzzNewRequest(f *testing.F) {
	addSeed(f, encodeHead("", "", "", "", "", ""))
	addSeed(f, encodeHead("GET", "/hello?name=x", "127.0.0.1:8080", "127.0.0.1:4000", "r1", "/hello", abi.Header{Name: "Accept", Value: "*/*"}))
	addSeed(f, encodeHead("POST", "/api/rooms/a", "", "[::1]:9", "01J", "/api/...",
		abi.Header{Name: "Host", Value: "from-header"}, abi.Header{Name: "content-type", Value: "application/json"},
		abi.Header{Name: "X-A", Value: "1"}, abi.Header{Name: "X-A", Value: "2"}))
	addSeed(f, encodeHead("GET", "%zz not a uri", "h", "r", "i", "/"))
	addSeed(f, append(encodeHead("GET", "/", "h", "r", "i", "/"), "later additions"...))
	f.Fuzz(func(t *testing.T, head []byte) {
		req, err := newRequest(context.Background(), newFake(), head, 0)
		if err != nil {
			if !errors.Is(err, abi.ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		// The reference decoding, with the plain Reader.
		r := abi.NewReader(head)
		method, uri, host, remote, _, _ := r.String(), r.String(), r.String(), r.String(), r.String(), r.String()
		n := r.U32()
		want := http.Header{}
		for range n {
			name, value := http.CanonicalHeaderKey(r.String()), r.String()
			want[name] = append(want[name], value)
		}
		if r.Err() != nil {
			t.Fatalf("newRequest accepted a head the reader refuses: %v", r.Err())
		}
		if host == "" {
			host = want.Get("Host")
		}
		delete(want, "Host")
		if req.Method != method || req.RequestURI != uri || req.Host != host || req.RemoteAddr != remote {
			t.Fatalf("decoded %q %q %q %q; want %q %q %q %q", req.Method, req.RequestURI, req.Host, req.RemoteAddr, method, uri, host, remote)
		}
		if fmt.Sprint(req.Header) != fmt.Sprint(want) {
			t.Fatalf("headers %v; want %v", req.Header, want)
		}
	})
}

// pageHost is a host whose kv_list answers with a fixed page.
type pageHost struct {
	*fakeHost
	page []byte
}

func (p pageHost) kvList(_, _, _ string, _ int32, buf []byte) int32 {
	if len(p.page) <= len(buf) {
		copy(buf, p.page)
	}
	return int32(len(p.page))
}

// FuzzListPage: a key page from the host decodes to keys whose total
// length fits in the page, or to ErrInternal; never a panic.
func FuzzListPage(f *testing.F) {
	page := func(keys []string, next string) []byte {
		b := abi.AppendU32(nil, uint32(len(keys)))
		for _, k := range keys {
			b = abi.AppendString(b, k)
		}
		return abi.AppendString(b, next)
	}
	addSeed(f, page(nil, ""))
	addSeed(f, page([]string{"a", "b/c", "\xff"}, "b/c"))
	addSeed(f, abi.AppendU32(nil, 1<<30))
	f.Fuzz(func(t *testing.T, b []byte) {
		old := sys
		sys = pageHost{newFake(), b}
		defer func() { sys = old }()
		keys, next, err := KV("").listPage("", "")
		if err != nil {
			if !errors.Is(err, ErrInternal) && !errors.Is(err, ErrBusy) {
				t.Fatalf("error %v", err)
			}
			return
		}
		total := len(next)
		for _, k := range keys {
			total += len(k)
		}
		if total > len(b) {
			t.Fatalf("decoded %d bytes of keys from %d", total, len(b))
		}
		if re := page(keys, next); !bytes.Equal(re, b[:len(re)]) {
			t.Fatalf("round trip differs:\n in  %q\n out %q", b, re)
		}
	})
}
