// Package testutil holds helpers shared by tests: WAT compilation,
// starting in-process nodes on 127.0.0.1 with fresh data directories,
// HTTP helpers, and Eventually for conditions that become true over time.
package testutil

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
)

// Token is the admin token of test nodes.
const Token = "test-token"

// WAT compiles WebAssembly text.
func WAT(t testing.TB, src string) []byte {
	t.Helper()
	b, err := wasmtime.Wat2Wasm(src)
	if err != nil {
		t.Fatalf("wat2wasm: %v", err)
	}
	return b
}

// StartNode starts a node on 127.0.0.1 with random ports in dir (a new
// temp dir if empty) and closes it when the test ends.
func StartNode(t testing.TB, dir string, mod ...func(*node.Config)) *node.Node {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := node.Config{HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", DataDir: dir, AdminToken: Token,
		ArtifactDir: SharedArtifacts()}
	for _, m := range mod {
		m(&cfg)
	}
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("starting node: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// Client returns an admin client for n.
func Client(n *node.Node) *client.Client { return client.New(n.AdminURL(), Token) }

// Response is a simplified HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends one request and reads the whole answer.
func Do(t testing.TB, method, url string, body io.Reader, hdr map[string]string) Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Get is Do with GET and no body.
func Get(t testing.TB, url string) Response { return Do(t, "GET", url, nil, nil) }

// Eventually polls cond every 10ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Contains fails the test unless s contains every sub.
func Contains(t testing.TB, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Fatalf("%q does not contain %q", s, sub)
		}
	}
}

// Oversized sends a request head announcing contentLength body bytes (and
// only a few of them), as a client streaming a large upload would, and
// returns the status and body of the answer. Servers answer 413 before the
// body arrives; an ordinary client would see its write reset instead.
func Oversized(t testing.TB, addr, method, path string, contentLength int, hdr map[string]string) Response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", method, path, addr, contentLength)
	for k, v := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n0123456789")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

var (
	artifactsOnce sync.Once
	artifactsDir  string
)

// SharedArtifacts is an artifact directory shared by every node a test
// binary starts, so that a module compiled once (a Go guest takes seconds)
// is loaded from disk by the next node. Tests that count compilations
// set their own ArtifactDir.
func SharedArtifacts() string {
	artifactsOnce.Do(func() {
		d, err := os.MkdirTemp("", "wedge-test-artifacts-")
		if err != nil {
			panic(err)
		}
		artifactsDir = d
	})
	return artifactsDir
}
