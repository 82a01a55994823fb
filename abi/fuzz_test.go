package abi

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// head is a decoded request head (the layout in encoding.go).
type head struct {
	method, uri, host, remote, id, route string
	headers                              []Header
}

func (h *head) encode() []byte {
	b := AppendString(nil, h.method)
	for _, s := range []string{h.uri, h.host, h.remote, h.id, h.route} {
		b = AppendString(b, s)
	}
	return EncodeHeaders(b, h.headers)
}

// decodeHead reads a head the way its consumers do (internal/runtime/cgi.go, the
// Go SDK): six strings, a count, count name/value pairs; bytes after the
// list are left for later additions.
func decodeHead(b []byte) (head, int, error) {
	r := NewReader(b)
	h := head{method: r.String(), uri: r.String(), host: r.String(), remote: r.String(), id: r.String(), route: r.String()}
	n := r.U32()
	for i := uint32(0); i < n && r.Err() == nil; i++ {
		h.headers = append(h.headers, Header{Name: r.String(), Value: r.String()})
	}
	if r.Err() != nil {
		return head{}, 0, r.Err()
	}
	return h, len(b) - r.Len(), nil
}

func seedHeads() []head {
	return []head{
		{},
		{method: "GET", uri: "/", host: "127.0.0.1:8080", remote: "127.0.0.1:5000", id: "r1", route: "/..."},
		{method: "POST", uri: "/api/rooms/a?x=1&y=%20", host: "example.com", remote: "[::1]:1", id: "01HXYZ", route: "/api/...",
			headers: []Header{{"Content-Type", "application/json"}, {"X-Empty", ""}, {"Cookie", "a=b; c=d"}, {"Cookie", "e=f"}}},
		{method: "PUT", uri: "/\x00\xff", headers: []Header{{strings.Repeat("N", 300), strings.Repeat("v", 1000)}}},
	}
}

// FuzzRequestHead: a head either decodes or reports ErrMalformed; what
// decodes re-encodes to exactly the bytes it was read from, and no
// decoded string is longer than the input.
func FuzzRequestHead(f *testing.F) {
	for _, h := range seedHeads() {
		addSeed(f, h.encode())
	}
	addSeed(f, append(seedHeads()[1].encode(), 1, 2, 3)) // trailing bytes: room for additions
	f.Fuzz(func(t *testing.T, b []byte) {
		h, used, err := decodeHead(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		total := len(h.method) + len(h.uri) + len(h.host) + len(h.remote) + len(h.id) + len(h.route)
		for _, hd := range h.headers {
			total += len(hd.Name) + len(hd.Value)
		}
		if total > len(b) || used > len(b) {
			t.Fatalf("decoded %d bytes of strings (%d consumed) from %d bytes", total, used, len(b))
		}
		if re := h.encode(); !bytes.Equal(re, b[:used]) {
			t.Fatalf("round trip differs:\n in  %q\n out %q", b[:used], re)
		}
	})
}

// FuzzDecodeHeaders: the response header list a guest writes either
// decodes to at most MaxHeaders pairs that re-encode to exactly the input
// (no trailing bytes are accepted), or fails with ErrMalformed or
// ErrTooManyHeaders.
func FuzzDecodeHeaders(f *testing.F) {
	for _, h := range seedHeads() {
		addSeed(f, EncodeHeaders(nil, h.headers))
	}
	many := make([]Header, MaxHeaders+1)
	addSeed(f, EncodeHeaders(nil, many))
	addSeed(f, EncodeHeaders(nil, many[:MaxHeaders]))
	f.Fuzz(func(t *testing.T, b []byte) {
		var hs []Header
		err := DecodeHeaders(b, func(name, value []byte) error {
			hs = append(hs, Header{string(name), string(value)})
			return nil
		})
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooManyHeaders) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(hs) > MaxHeaders {
			t.Fatalf("%d headers accepted", len(hs))
		}
		if re := EncodeHeaders(nil, hs); !bytes.Equal(re, b) {
			t.Fatalf("round trip differs:\n in  %q\n out %q", b, re)
		}
	})
}

// TestDecodeHeadersStopsAtCallbackError: the callback's error is returned
// as is and ends the walk.
func TestDecodeHeadersStopsAtCallbackError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := DecodeHeaders(EncodeHeaders(nil, []Header{{"A", "1"}, {"B", "2"}}), func(_, _ []byte) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Fatalf("err %v after %d calls; want stop after 1", err, calls)
	}
}

// addSeed adds one seed to f and, with WEDGE_FUZZ_WRITE_SEEDS=1, writes it
// under testdata/fuzz/<target>/ exactly as internal/fuzzseed.Add does
// (the root module's helper: abi is a module without dependencies, so it
// keeps this []byte-only copy of the twelve lines it needs).
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
