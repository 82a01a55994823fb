package runtime

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/fuzzseed"
)

// cgiFuzzLimit is the response limit of the fuzzed calls: small, so the
// fuzzer reaches it.
const cgiFuzzLimit = 512

// FuzzParseCGI: whatever a WASI command writes to stdout, parseCGI
// either refuses it with a guest error or produces a response that keeps
// the contract of the native entry's response_head: a status in
// 200..999, a header list that decodes with at most MaxHeaders valid
// pairs, and a body within the function's limit that is exactly what
// followed the header block (or the whole output).
func FuzzParseCGI(f *testing.F) {
	for _, s := range []string{
		"",
		"hello\n",
		"Content-Type: text/html\n\n<p>hi</p>",
		"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such thing",
		"Location: /elsewhere\n\n",
		"Status: 201\nX-A: 1\nX-A: 2\nSet-Cookie: a=b; Path=/\n\n{}",
		"Status: abc\n\n",
		"not: a\nheader block because of this line\n\nbody",
		"X-Long: " + strings.Repeat("v", 600) + "\n\n" + strings.Repeat("b", 600),
		"Status: 100 Continue\n\nnot a final response",      // a 1xx status left clients waiting
		strings.Repeat("X-A: 1\n", abi.MaxHeaders+1) + "\n", // the gateway dropped every header
		"Status: 204\n\n",                                   // a status-only block left no header at all
	} {
		fuzzseed.Add(f, []byte(s))
	}
	env := NewEnv("cgi", nil, Limits{MaxResponseBytes: cgiFuzzLimit})
	f.Fuzz(func(t *testing.T, out []byte) {
		c := &Call{Env: env, Output: append([]byte(nil), out...)}
		if err := c.parseCGI(); err != nil {
			var ge *GuestError
			if !errors.As(err, &ge) {
				t.Fatalf("error %v (%T) is not a GuestError", err, err)
			}
			return
		}
		status := c.Status
		if status == 0 {
			status = 200 // output without a header block keeps the default
		}
		if status < 200 || status > 999 {
			t.Fatalf("status %d", c.Status)
		}
		if len(c.Output) > cgiFuzzLimit {
			t.Fatalf("body of %d bytes over the %d limit", len(c.Output), cgiFuzzLimit)
		}
		if !bytes.HasSuffix(out, c.Output) {
			t.Fatalf("body %q is not the tail of the output %q", c.Output, out)
		}
		n := 0
		err := abi.DecodeHeaders(c.Headers, func(name, value []byte) error {
			n++
			if !validHeader(name, value) {
				t.Fatalf("invalid header %q: %q from %.200q", name, value, out)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("header list from %.200q does not decode: %v", out, err)
		}
		if n == 0 {
			t.Fatal("no header at all (want at least a Content-Type)")
		}
	})
}

// FuzzBuildCGIEnv: any request head (the gateway writes it from client
// bytes) yields an environment of NAME=value entries whose names are the
// CGI variables or HTTP_ ones made of [A-Z0-9_], and never a panic.
func FuzzBuildCGIEnv(f *testing.F) {
	head := func(method, uri, host, remote, id, route string, hs ...abi.Header) []byte {
		b := abi.AppendString(nil, method)
		for _, s := range []string{uri, host, remote, id, route} {
			b = abi.AppendString(b, s)
		}
		return abi.EncodeHeaders(b, hs)
	}
	fuzzseed.Add(f, head("GET", "/cgi/x?a=1", "127.0.0.1:8080", "127.0.0.1:5555", "r1", "/cgi/...",
		abi.Header{Name: "Content-Type", Value: "text/plain"}, abi.Header{Name: "Content-Length", Value: "3"},
		abi.Header{Name: "X-Forwarded-For", Value: "10.0.0.1"}, abi.Header{Name: "User-Agent", Value: "curl/8"}))
	fuzzseed.Add(f, head("POST", "/", "example.com", "[::1]:80", "", "/"))
	fuzzseed.Add(f, head("", "", "", "", "", ""))
	// fasthttp accepts "Bad Name: v"; it became the variable "HTTP_BAD NAME".
	fuzzseed.Add(f, head("GET", "/", "h", "r", "i", "/", abi.Header{Name: "Bad Name", Value: "v"}))
	fuzzseed.Add(f, []byte{1, 0, 0, 0})
	env := NewEnv("cgi", map[string]string{"A": "b"}, Limits{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &Call{Env: env, Head: b}
		c.buildCGIEnv()
		if len(c.cgiEnv) < len(env.environ) {
			t.Fatalf("environment %q lost the function's config", c.cgiEnv)
		}
		for _, kv := range c.cgiEnv[len(env.environ):] {
			name, _, ok := strings.Cut(kv, "=")
			if !ok || name == "" {
				t.Fatalf("entry %q is not NAME=value", kv)
			}
			for _, ch := range []byte(name) {
				if !(ch == '_' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
					t.Fatalf("variable name %q from head %q", name, b)
				}
			}
		}
	})
}
