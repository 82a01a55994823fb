package node

import (
	"github.com/wedge-run/wedge/internal/gateway"
)

// loadUploadRoutes serves the public upload routes of every app's
// buckets: the apps deployed here and those replicated from peers.
func (n *Node) loadUploadRoutes() {
	var routes []gateway.UploadRoute
	for _, a := range n.Registry.Apps() {
		for _, b := range a.Buckets {
			if b.PublicUpload != "" {
				routes = append(routes, gateway.UploadRoute{Base: b.PublicUpload, Bucket: b.Name, Max: b.MaxObjectMB << 20})
			}
		}
	}
	n.Gateway.SetUploadRoutes(routes)
}
