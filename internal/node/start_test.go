package node_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// A start-up that fails part-way returns its error (it panicked on a nil
// *Node) and releases what it had opened: the data directory's bbolt lock
// and the public listener are free again at once, so a second start with
// the same directory and public address succeeds.
func TestStartFailureReleasesResources(t *testing.T) {
	dir := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicAddr := free.Addr().String()
	free.Close()

	cfg := node.Config{HTTPAddr: publicAddr, AdminAddr: taken.Addr().String(), DataDir: dir,
		AdminToken: testutil.Token, ArtifactDir: testutil.SharedArtifacts()}
	n, err := node.Start(context.Background(), cfg)
	if err == nil {
		n.Close()
		t.Fatal("start with a taken admin port succeeded")
	}
	if n != nil {
		t.Fatalf("a failed start returned a node")
	}
	testutil.Contains(t, err.Error(), "admin API", taken.Addr().String(), "address already in use")

	// The same data directory (bbolt would wait 3 s for a held lock, then
	// fail) and the same public address (a leaked listener would refuse
	// it) serve a new node.
	cfg.AdminAddr = "127.0.0.1:0"
	n, err = node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	defer n.Close()
	if got := testutil.Get(t, n.PublicURL()+"/nothing"); got.Status != 404 || !strings.Contains(got.Body, "no function") {
		t.Fatalf("second node does not serve: %d %q", got.Status, got.Body)
	}
}

// A data directory held by a running node is refused with a message
// naming the cause, not a panic.
func TestStartLockedDataDir(t *testing.T) {
	dir := t.TempDir()
	testutil.StartNode(t, dir)
	_, err := node.Start(context.Background(), node.Config{HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", DataDir: dir,
		AdminToken: testutil.Token, ArtifactDir: testutil.SharedArtifacts()})
	if err == nil {
		t.Fatal("second node on a locked data directory started")
	}
	testutil.Contains(t, err.Error(), "is locked", "another wedge node")
}
