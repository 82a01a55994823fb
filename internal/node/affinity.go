package node

import (
	"slices"
	"sync"
	"time"

	"github.com/wedge-run/wedge/model"
)

// servingLock serializes advertiseServing: each call reads the registry
// and replaces the advertised set, so two must not interleave.
type servingLock struct{ sync.Mutex }

// keyOwner answers the gateway's affinity question (internal/registry/affinity.go):
// the public address of the member that owns key of function, chosen by
// rendezvous hashing among the members that have the function installed
// (cluster.FunctionOwner), and whether it is this node. While this node
// is taking the function's keys over it first waits for that, up to
// handoverHold.
func (n *Node) keyOwner(function, key string) (addr string, self, ok bool) {
	if !n.Cluster.TookOver(function) {
		// Taking the function's keys over (cluster.Handover): hold the
		// request for the short fence rather than refuse it.
		n.Cluster.WaitTakeOver(function, handoverHold)
	}
	m, found := n.Cluster.FunctionOwner(function, function+"/"+key)
	if !found {
		return "", false, false
	}
	if m.Self {
		return "", true, true
	}
	if m.Meta.PublicAddr == "" {
		return "", false, false
	}
	return m.Meta.PublicAddr, false, true
}

// advertiseServing tells the cluster which functions with affinity this
// node has installed (and may therefore own keys of), after a registry
// change: changed is the function that changed ("" for the start-up
// load). A function deployed on this node owns keys at once (no other
// node has it yet); one installed from a peer or loaded at start-up
// after the cluster's settle time (cluster.Config.OwnerSettle).
func (n *Node) advertiseServing(changed model.Function, deleted bool) {
	n.servingMu.Lock()
	defer n.servingMu.Unlock()
	var names []string
	for _, rec := range n.Registry.List() {
		if rec.Affinity != "" {
			names = append(names, rec.Name)
		}
	}
	var now []string
	if changed.Name != "" && !deleted && changed.Origin == n.Config.NodeName {
		now = append(now, changed.Name)
	}
	n.Cluster.SetServing(names, now...)
}

// functionNamespaces is the hand-over's question (cluster.Handover): the
// KV namespaces function writes, its own and its grants.
func (n *Node) functionNamespaces(function string) ([]string, bool) {
	f, ok := n.Registry.Get(function)
	if !ok {
		return nil, false
	}
	ns := []string{f.Env.KVNamespace}
	for g := range f.Env.KVGrants {
		if !slices.Contains(ns, g) {
			ns = append(ns, g)
		}
	}
	return ns, true
}

// drainPinned waits for the pinned requests of function running here,
// for a peer taking over its keys: at most the function's timeout plus
// handoverQueueSlack (a request may wait for a slot before it runs).
func (n *Node) drainPinned(function string) {
	limit := handoverQueueSlack
	if f, ok := n.Registry.Get(function); ok {
		limit += f.Env.Limits.Timeout
	}
	if !n.Gateway.DrainPinned(function, limit) {
		n.Config.Log.Warn("hand-over: pinned requests still running after the function's timeout; the taker proceeds", "function", function)
	}
}

// handoverHold bounds how long a pinned request waits for this node's
// take-over of its function to end; past it, it is refused (503) or
// sent to the previous owner, as without the wait.
const handoverHold = 2 * time.Second

// handoverQueueSlack bounds how long a pinned request may wait for a
// slot, on top of its function's timeout, in a hand-over's drain.
const handoverQueueSlack = 2 * time.Second
