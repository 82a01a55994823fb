// Command web serves the chat app's single-page UI (static/, embedded in
// the module) on the catch-all route /...; the API functions have longer
// routes, so they win for /api/auth/..., /api/rooms... and /api/inbox.
//
//	GET /            index.html
//	GET /app.js      the UI's script
//	GET /app.css     its styles
//	GET /api/...     JSON 404: an API path no function serves
//
// Everything is same-origin: the Content-Security-Policy allows scripts,
// styles and requests to this origin only, and no inline script at all.
package main

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/wedge-run/wedge/examples/chat/shared"
	wedge "github.com/wedge-run/wedge/sdk/go"
)

//go:embed static
var static embed.FS

// csp keeps the page to its own origin; it would also stop an injected
// inline script or event handler, should text ever reach the DOM as HTML.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type file struct {
	body        []byte
	contentType string
	etag        string
}

type site struct {
	files map[string]file // by URL path
}

func init() {
	s, err := newSite(static)
	if err != nil {
		panic(err)
	}
	wedge.Handle(s)
}

func main() {} // never run in a -buildmode=c-shared module

// newSite indexes the embedded files once: in init, which wedge may run
// at deploy time and snapshot.
func newSite(fsys fs.FS) (*site, error) {
	s := &site{files: map[string]file{}}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		url := strings.TrimPrefix(p, "static")
		s.files[url] = file{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.files["/"] = s.files["/index.html"]
	delete(s.files, "/index.html")
	return s, nil
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/api" || strings.HasPrefix(p, "/api/") {
		shared.WriteError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+p)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := s.files[p]
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	// Revalidate every time: the files change with each deploy and have
	// no versioned names.
	h.Set("Cache-Control", "no-cache")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(f.body)
}
