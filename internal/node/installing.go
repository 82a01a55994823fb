package node

import (
	"sync"
	"sync/atomic"

	"github.com/wedge-run/wedge/internal/cluster"

	"github.com/wedge-run/wedge/model"
)

// installing tracks functions learned from peers that this node does not
// serve yet: their module is being fetched by sha256 and compiled. Until
// the deploy commits, requests on their routes go to the node the
// record came from (it has the module) rather than getting a 404.
type installing struct {
	count atomic.Int32 // len(fns): every public request asks, most while none is installing
	mu    sync.RWMutex
	fns   map[string]installingFn
}

type installingFn struct {
	routes   []string
	affinity string
	origin   string // the node that made the change
}

func (in *installing) add(name, origin, affinity string, routes []string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.fns == nil {
		in.fns = map[string]installingFn{}
	}
	in.fns[name] = installingFn{routes: routes, affinity: affinity, origin: origin}
	in.count.Store(int32(len(in.fns)))
}

func (in *installing) remove(name string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.fns, name)
	in.count.Store(int32(len(in.fns)))
}

// match returns the function being installed whose route matches path
// best, that route, its affinity pattern, and the node the function
// came from.
func (in *installing) match(host, path []byte) (name, route, affinity, origin string, ok bool) {
	if in.count.Load() == 0 {
		return "", "", "", "", false
	}
	in.mu.RLock()
	defer in.mu.RUnlock()
	for n, f := range in.fns {
		for _, r := range f.routes {
			if model.RouteMatches(r, host, path) && (!ok || model.MoreSpecific(r, route)) {
				name, route, affinity, origin, ok = n, r, f.affinity, f.origin, true
			}
		}
	}
	return name, route, affinity, origin, ok
}

// installingPeer answers the gateway's question for a path that matched
// no route: the origin of the function being installed if it is alive,
// else the least loaded peer.
func (n *Node) installingPeer(host, path []byte) (function, route, affinity, peer string, ok bool) {
	name, route, affinity, origin, ok := n.installing.match(host, path)
	if !ok {
		return "", "", "", "", false
	}
	if m, found := n.Cluster.Member(origin); found && m.State == cluster.StateAlive && !m.Self && m.Meta.PublicAddr != "" {
		return name, route, affinity, m.Meta.PublicAddr, true
	}
	if m, found := n.Cluster.PickPeer(n.Config.NodeName); found {
		return name, route, affinity, m.Meta.PublicAddr, true
	}
	return name, route, affinity, "", true
}
