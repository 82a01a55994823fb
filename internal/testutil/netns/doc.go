// Package netns builds small test networks out of Linux network
// namespaces, veth pairs and bridges, so that a test can run real
// processes on separate "hosts" and cut and restore the links between
// them (a network partition): by setting a link between bridges down
// (Link.Down), or by moving hosts onto separate bridges (Network.Move).
//
// A Network has a hub namespace holding the bridges (Bridge) and the
// links joining them (Link), and one namespace per host (Host), each
// with one veth interface plugged into a bridge. Addresses are in
// 127.0.0.0/8: each namespace routes its 127.x addresses over the veth
// (route_localnet, and the local 127.0.0.0/8 route removed; 127.0.0.1
// stays local to the namespace).
//
// The test process stays in its own namespace: Host.DialContext and
// Host.HTTPClient open connections from inside a host's namespace, and
// Host.Command runs a program there (ip netns exec).
//
// Creating namespaces needs root and the ip command (iproute2); New
// skips the test without them, or fails it when the environment
// variable WEDGE_REQUIRE_NETNS is 1. The package is Linux-only.
package netns
