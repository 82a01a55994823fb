package wedge_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/examples"
	"github.com/wedge-run/wedge/internal/testutil"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEmbeddedNode starts a node on listeners the test opened, deploys a
// function through the admin handler mounted in a net/http server,
// calls it on the public listener and through the public handler, and
// closes the node: Close reports no error and both ports are free again.
func TestEmbeddedNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, adm := listen(t), listen(t)
	pubAddr, admAddr := pub.Addr().String(), adm.Addr().String()
	n, err := wedge.Start(ctx, wedge.Config{PublicListener: pub, AdminListener: adm, DataDir: t.TempDir(),
		AdminToken: "secret", MaxConcurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			n.Close()
		}
	}()
	if n.PublicAddr() != pubAddr || n.AdminAddr() != admAddr {
		t.Fatalf("serving on %s and %s, want the listeners given: %s and %s", n.PublicAddr(), n.AdminAddr(), pubAddr, admAddr)
	}

	admin := httptest.NewServer(n.AdminHandler())
	defer admin.Close()
	if _, err := client.New(admin.URL, "wrong").List(ctx); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("a wrong token through the admin handler: %v, want 401", err)
	}
	cl := client.New(admin.URL, n.AdminToken())
	if _, _, err := cl.Deploy(ctx, "hello", testutil.WAT(t, examples.HelloWAT), client.DeployOptions{Routes: []string{"/hello"}}); err != nil {
		t.Fatal(err)
	}
	if st, body := get(t, "http://"+pubAddr+"/hello"); st != 200 || body != "hello from wedge\n" {
		t.Fatalf("public listener: %d %q", st, body)
	}
	public := httptest.NewServer(n.PublicHandler())
	defer public.Close()
	if st, body := get(t, public.URL+"/hello"); st != 200 || body != "hello from wedge\n" {
		t.Fatalf("public handler: %d %q", st, body)
	}
	if st, body := get(t, public.URL+"/nothing"); st != 404 || !strings.Contains(body, "no function serves /nothing") {
		t.Fatalf("public handler, no route: %d %q", st, body)
	}

	// The invocations are counted by the invoke path, on the admin side.
	req, _ := http.NewRequest("GET", admin.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+n.AdminToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `wedge_function_invocations_total{function="hello",result="ok"} 2`; !strings.Contains(string(metrics), want) {
		t.Fatalf("metrics lack %s:\n%s", want, metrics)
	}

	closed = true
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, addr := range []string{pubAddr, admAddr} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s still taken after Close: %v", addr, err)
		}
		ln.Close()
	}
}

// TestStartFailureClosesListeners: a node that cannot start (its data
// directory is a file) closes the listeners it was given.
func TestStartFailureClosesListeners(t *testing.T) {
	pub, adm := listen(t), listen(t)
	file := t.TempDir() + "/file"
	if err := writeFile(file); err != nil {
		t.Fatal(err)
	}
	if _, err := wedge.Start(context.Background(), wedge.Config{PublicListener: pub, AdminListener: adm, DataDir: file}); err == nil {
		t.Fatal("a node started on a file as its data directory")
	}
	for _, ln := range []net.Listener{pub, adm} {
		again, err := net.Listen("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("%s still taken after a failed Start: %v", ln.Addr(), err)
		}
		again.Close()
	}
}

func writeFile(path string) error { return os.WriteFile(path, []byte("not a directory"), 0o600) }

// TestStartCancelled: a start-up whose context has ended fails with the
// context's error, and leaves nothing open: the data directory opens
// again and the listeners' ports are free.
func TestStartCancelled(t *testing.T) {
	pub, adm := listen(t), listen(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := wedge.Start(ctx, wedge.Config{PublicListener: pub, AdminListener: adm, DataDir: dir, AdminToken: "t"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Start with a cancelled context: %v, want context.Canceled", err)
	}
	for _, ln := range []net.Listener{pub, adm} {
		again, err := net.Listen("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("%s still taken after a cancelled Start: %v", ln.Addr(), err)
		}
		again.Close()
	}
	n, err := wedge.Start(context.Background(), wedge.Config{PublicAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", DataDir: dir, AdminToken: "t"})
	if err != nil {
		t.Fatalf("the data directory after a cancelled Start: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}
