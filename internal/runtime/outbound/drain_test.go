package outbound

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer answers /small with 8 KiB, /big with 1 MiB and /stall
// with the head and 10 bytes of a 1 MiB body, the rest never; it counts
// the connections it accepted.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		size := 8 << 10
		switch r.URL.Path {
		case "/big", "/stall":
			size = 1 << 20
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		if r.URL.Path == "/stall" {
			w.Write([]byte("0123456789"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Write([]byte(strings.Repeat("x", size)))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv, &conns
}

// TestCloseUnreadKeepsConnection: closing responses whose small bodies
// were not read reuses one connection; a body over the drain bound and a
// body that stalls close their connection, and Close returns anyway.
func TestCloseUnreadKeepsConnection(t *testing.T) {
	srv, conns := countingServer(t)
	c := testClient(t)
	p := Policy{Function: "f", Allow: mustList(t, srv.URL), Timeout: time.Minute}.WithDefaults()
	do := func(path string) {
		t.Helper()
		r, err := c.Do(context.Background(), &p, &Request{Method: "GET", URL: srv.URL + path})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != 200 {
			t.Fatalf("%s: status %d", path, r.Status)
		}
		r.Close()
	}
	for range 5 {
		do("/small")
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 requests closed unread used %d connections, want 1", n)
	}
	// Over the bound: not drained, its connection is closed.
	do("/big")
	do("/small")
	if n := conns.Load(); n != 2 {
		t.Fatalf("after a 1 MiB body closed unread: %d connections, want 2", n)
	}
	// A body that stalls: Close gives up on draining (well before the
	// request's one-minute timeout) and closes the connection.
	r, err := c.Do(context.Background(), &p, &Request{Method: "GET", URL: srv.URL + "/stall"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Close of a stalled body did not return")
	}
	do("/small")
	if n := conns.Load(); n != 3 {
		t.Fatalf("after a stalled body: %d connections, want 3", n)
	}
}
