package node

import "testing"

// HoldInstall makes every function a node learns from a peer wait in
// hold(name) before its module is fetched and compiled, until the test
// ends.
func HoldInstall(t *testing.T, hold func(name string)) {
	testHookInstall.Store(&hold)
	t.Cleanup(func() { testHookInstall.Store(nil) })
}
