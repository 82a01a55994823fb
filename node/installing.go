package node

import (
	"sync"

	"github.com/wedge-run/wedge/cluster"
	"github.com/wedge-run/wedge/registry"
)

// installing tracks functions learned from peers that this node does not
// serve yet: their module is being fetched by sha256 and compiled. Until
// the deploy commits, requests on their routes go to the node the
// record came from (it has the module) rather than getting a 404.
type installing struct {
	mu  sync.RWMutex
	fns map[string]installingFn
}

type installingFn struct {
	routes []string
	origin string // the node that made the change
}

func (in *installing) add(name, origin string, routes []string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.fns == nil {
		in.fns = map[string]installingFn{}
	}
	in.fns[name] = installingFn{routes: routes, origin: origin}
}

func (in *installing) remove(name string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.fns, name)
}

// match returns the function being installed whose routes match path,
// and the node it came from.
func (in *installing) match(path []byte) (name, origin string, ok bool) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	for n, f := range in.fns {
		for _, r := range f.routes {
			if registry.RouteMatches(r, path) {
				return n, f.origin, true
			}
		}
	}
	return "", "", false
}

// installingPeer answers the gateway's question for a path that matched
// no route: the origin of the function being installed if it is alive,
// else the least loaded peer.
func (n *Node) installingPeer(path []byte) (function, peer string, ok bool) {
	name, origin, ok := n.installing.match(path)
	if !ok {
		return "", "", false
	}
	if m, found := n.Cluster.Member(origin); found && m.State == cluster.StateAlive && !m.Self && m.Meta.PublicAddr != "" {
		return name, m.Meta.PublicAddr, true
	}
	if m, found := n.Cluster.PickPeer(n.Config.NodeName); found {
		return name, m.Meta.PublicAddr, true
	}
	return name, "", true
}
