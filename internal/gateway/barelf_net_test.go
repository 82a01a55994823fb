package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
)

// rawExchange writes each part on a fresh connection to addr and returns
// what the server sent until it closed the connection, or the deadline.
func rawExchange(t *testing.T, addr string, deadline time.Duration, parts ...string) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(deadline))
	for _, p := range parts {
		if _, err := io.WriteString(c, p); err != nil {
			t.Fatal(err)
		}
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// A request head whose lines end in a bare LF is answered 400 at once on
// both servers; fasthttp alone waited for a CRLFCRLF until its read
// timeout (30 s public, 60 s admin). The bound below is generous: the
// answer takes milliseconds.
func TestBareLFAnsweredAtOnce(t *testing.T) {
	n := testutil.StartNode(t, "")
	public := strings.TrimPrefix(n.PublicURL(), "http://")
	admin := strings.TrimPrefix(n.AdminURL(), "http://")
	for _, tc := range []struct {
		name  string
		addr  string
		parts []string
		want  string
	}{
		{"public all bare", public, []string{"GET /x HTTP/1.1\nHost: a\n\n"}, "bare LF"},
		{"public mixed", public, []string{"GET /x HTTP/1.1\r\nHost: a\n\n"}, "bare LF"},
		{"public with body", public, []string{"POST /x HTTP/1.1\nHost: a\nContent-Length: 2\n\nab"}, "bare LF"},
		{"public in pieces", public, []string{"GET /x HTTP/1.1\n", "Host: a\n", "\n"}, "bare LF"},
		{"admin", admin, []string{"GET /healthz HTTP/1.1\nHost: a\n\n"}, "bare LF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			out, err := rawExchange(t, tc.addr, 5*time.Second, tc.parts...)
			if err != nil {
				t.Fatalf("after %v: %v (got %q)", time.Since(start), err, out)
			}
			if !strings.HasPrefix(out, "HTTP/1.1 400 ") || !strings.Contains(out, tc.want) {
				t.Fatalf("got %q", out)
			}
			t.Logf("400 after %v", time.Since(start))
		})
	}
}

// The guard changes nothing for well-formed traffic: keep-alive requests
// whose heads arrive in pieces and whose bodies are full of bare LFs, even
// bodies that look like a bare-LF request, pipelined or not.
func TestBareLFGuardLeavesValidRequests(t *testing.T) {
	n := testutil.StartNode(t, "")
	echo := testutil.WAT(t, `(module
	  (import "wedge_v1" "request_body" (func $body (param i32 i32) (result i32)))
	  (import "wedge_v1" "response_write" (func $w (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (drop (call $w (i32.const 0) (call $body (i32.const 0) (i32.const 4096)))) (i32.const 0)))`)
	if _, _, err := testutil.Client(n).Deploy(t.Context(), "echo", echo, client.DeployOptions{Routes: []string{"/echo"}}); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(n.PublicURL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	req := func(body string) string {
		return fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	bodies := []string{"a\n\nb", "GET / HTTP/1.1\n\n", "\n\n\n", "GET / HTTP/1.1\nHost: a\n\n"}
	check := func(want string) {
		t.Helper()
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, b, want)
		}
	}
	for _, body := range bodies {
		// Head in pieces, then the body alone.
		full := req(body)
		head := full[:len(full)-len(body)]
		for _, p := range []string{head[:7], head[7:20], head[20:], body} {
			if _, err := io.WriteString(c, p); err != nil {
				t.Fatal(err)
			}
		}
		check(body)
	}
	// A body sent after "100 Continue" is a body, whatever it looks like.
	body := "GET / HTTP/1.1\nHost: a\n\n"
	fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("want 100 Continue, got %q %v", line, err)
	}
	if line, err := r.ReadString('\n'); err != nil || line != "\r\n" {
		t.Fatalf("after 100 Continue: %q %v", line, err)
	}
	io.WriteString(c, body)
	check(body)
	// Pipelined: every request in one write.
	var all strings.Builder
	for _, body := range bodies {
		all.WriteString(req(body))
	}
	if _, err := io.WriteString(c, all.String()); err != nil {
		t.Fatal(err)
	}
	for _, body := range bodies {
		check(body)
	}
}
