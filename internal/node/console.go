package node

import (
	"slices"

	"github.com/wedge-run/wedge/internal/cluster"
	"github.com/wedge-run/wedge/internal/console"
	"github.com/wedge-run/wedge/internal/gateway"
)

// startConsole mounts the web console (internal/console) on the admin
// port: its page and session, its read endpoints, and its session cookie
// as a second way into the admin API. Call it once the cluster (if any)
// is started.
func (n *Node) startConsole() {
	c := console.New(console.Options{
		LookupToken: n.Gateway.LookupToken,
		TokenByHash: n.Gateway.TokenByHash,
		KV:          n.KV,
		Counters:    n.Gateway.FunctionCounters,
		Bounds:      gateway.LatencyBounds(),
		Events:      n.Events,
		Affinity:    n.affinityView,
		OwnerOf:     n.affinityOwner,
		NodeName:    n.Config.NodeName,
		Log:         n.Config.Log,
	})
	n.closers = append(n.closers, c.Close)
	n.Gateway.AddAdminRoutes(c.Routes()...)
	n.Gateway.SetSessionAuth(c.Authorize)
}

// affinityView lists the functions with affinity and the members that
// serve them (the owner candidates of their keys).
func (n *Node) affinityView() []console.Affinity {
	var out []console.Affinity
	for _, rec := range n.Registry.List() {
		if rec.Affinity == "" {
			continue
		}
		a := console.Affinity{Function: rec.Name, Pattern: rec.Affinity, Serving: []string{}}
		if n.Cluster == nil {
			a.Serving = append(a.Serving, n.Config.NodeName)
		} else {
			for _, m := range n.Cluster.Members() {
				if _, ok := m.Serving[rec.Name]; ok && m.State == cluster.StateAlive {
					a.Serving = append(a.Serving, m.Name)
				}
			}
		}
		slices.Sort(a.Serving)
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b console.Affinity) int {
		if a.Function < b.Function {
			return -1
		}
		return 1
	})
	return out
}

// affinityOwner names the member that owns key of function, as the
// gateway computes it (keyOwner), without waiting for a take-over.
func (n *Node) affinityOwner(function, key string) (string, bool) {
	if n.Cluster == nil {
		_, ok := n.Registry.Get(function)
		return n.Config.NodeName, ok
	}
	m, ok := n.Cluster.FunctionOwner(function, function+"/"+key)
	return m.Name, ok
}
