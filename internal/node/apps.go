package node

import (
	"encoding/json"

	"github.com/wedge-run/wedge/internal/gateway"
	"github.com/wedge-run/wedge/manifest"
)

const appBucketsKey = "app-buckets/"

// appChanged remembers an app's buckets and refreshes the public upload
// routes.
func (n *Node) appChanged(app string, buckets []manifest.Bucket) {
	if len(buckets) == 0 {
		_ = n.DB.DeleteMeta(appBucketsKey + app)
	} else if err := n.DB.PutMeta(appBucketsKey+app, buckets); err != nil {
		n.Config.Log.Error("storing app buckets", "app", app, "err", err)
	}
	n.loadUploadRoutes()
}

func (n *Node) loadUploadRoutes() {
	all, err := n.DB.ListMeta(appBucketsKey)
	if err != nil {
		n.Config.Log.Error("loading upload routes", "err", err)
		return
	}
	var routes []gateway.UploadRoute
	for _, raw := range all {
		var bs []manifest.Bucket
		if json.Unmarshal(raw, &bs) != nil {
			continue
		}
		for _, b := range bs {
			if b.PublicUpload != "" {
				routes = append(routes, gateway.UploadRoute{Base: b.PublicUpload, Bucket: b.Name, Max: b.MaxObjectMB << 20})
			}
		}
	}
	n.Gateway.SetUploadRoutes(routes)
}
