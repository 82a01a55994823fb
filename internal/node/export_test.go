package node

import (
	"net/http"
	"testing"

	"github.com/wedge-run/wedge/internal/cluster"
)

// HoldInstall makes every function a node learns from a peer wait in
// hold(name) before its module is fetched and compiled, until the test
// ends.
func HoldInstall(t *testing.T, hold func(name string)) {
	HoldInstallOn(t, func(_, name string) { hold(name) })
}

// HoldInstallOn is HoldInstall with the name of the installing node.
func HoldInstallOn(t *testing.T, hold func(node, name string)) {
	testHookInstall.Store(&hold)
	t.Cleanup(func() { testHookInstall.Store(nil) })
}

// SetPeerHTTPClient makes every node started until the test ends send
// its node-to-node requests with client.
func SetPeerHTTPClient(t *testing.T, client *http.Client) {
	testHookPeerClient.Store(client)
	t.Cleanup(func() { testHookPeerClient.Store(nil) })
}

// DisableHandoverFence starts the nodes of the test without the
// hand-over fence (cluster.Handover), to show what it prevents.
func DisableHandoverFence(t *testing.T) {
	testHookNoFence.Store(true)
	t.Cleanup(func() { testHookNoFence.Store(false) })
}

// Records returns the function records n's cluster replicates.
func Records(n *Node) []cluster.FunctionRecord { return n.replication.Records() }
