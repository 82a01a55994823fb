package node

import "testing"

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
