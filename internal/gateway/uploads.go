package gateway

import (
	"fmt"
	"strings"

	"github.com/valyala/fasthttp"
)

// UploadRoute lets the public gateway accept uploads into a bucket: a PUT
// or POST to Base + "/" + NAME stores object NAME (and fires the bucket's
// upload triggers).
type UploadRoute struct {
	Base   string // "/upload/images" for public_upload = "/upload/images/..."
	Bucket string
	Max    int // bytes
}

type uploadTable struct{ routes []UploadRoute } // longest base first

// SetUploadRoutes replaces the public upload routes.
func (s *Server) SetUploadRoutes(routes []UploadRoute) {
	t := &uploadTable{routes: append([]UploadRoute(nil), routes...)}
	for i := range t.routes {
		t.routes[i].Base = strings.TrimSuffix(strings.TrimSuffix(t.routes[i].Base, "/..."), "/")
	}
	for i := 1; i < len(t.routes); i++ {
		for j := i; j > 0 && len(t.routes[j].Base) > len(t.routes[j-1].Base); j-- {
			t.routes[j], t.routes[j-1] = t.routes[j-1], t.routes[j]
		}
	}
	s.uploads.Store(t)
}

// matchUpload serves a public upload if path falls under an upload route.
func (s *Server) matchUpload(ctx *fasthttp.RequestCtx, path []byte) bool {
	t := s.uploads.Load()
	if t == nil || len(t.routes) == 0 || s.events == nil || (!ctx.IsPut() && !ctx.IsPost()) {
		return false
	}
	for _, r := range t.routes {
		if strings.HasPrefix(string(path), r.Base+"/") && len(path) > len(r.Base)+1 {
			name := string(path[len(r.Base)+1:])
			if r.Max > 0 && len(ctx.PostBody()) > r.Max {
				ctx.SetStatusCode(fasthttp.StatusRequestEntityTooLarge)
				fmt.Fprintf(ctx, "object too large: bucket %s accepts up to %d bytes\n", r.Bucket, r.Max)
				return true
			}
			s.serveUpload(ctx, r.Bucket, name)
			return true
		}
	}
	return false
}
