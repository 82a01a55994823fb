package main

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	s, err := newSite(static)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestFiles(t *testing.T) {
	for path, ct := range map[string]string{"/": "text/html", "/app.js": "javascript", "/app.css": "text/css"} {
		w := serve(t, "GET", path, nil)
		if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), ct) || w.Body.Len() == 0 {
			t.Errorf("%s: %d %q", path, w.Code, w.Header().Get("Content-Type"))
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		etag := w.Header().Get("ETag")
		if w := serve(t, "GET", path, map[string]string{"If-None-Match": etag}); w.Code != 304 {
			t.Errorf("%s: revalidation %d", path, w.Code)
		}
	}
	if w := serve(t, "GET", "/index.html", nil); w.Code != 404 {
		t.Errorf("/index.html: %d", w.Code)
	}
	if w := serve(t, "GET", "/nothing", nil); w.Code != 404 {
		t.Errorf("/nothing: %d", w.Code)
	}
	if w := serve(t, "POST", "/", nil); w.Code != 405 || w.Header().Get("Allow") == "" {
		t.Errorf("POST /: %d", w.Code)
	}
	w := serve(t, "GET", "/api/nothing", nil)
	if w.Code != 404 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Errorf("/api/nothing: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
}

// The UI never parses text as HTML.
func TestNoInnerHTML(t *testing.T) {
	js, err := static.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
	html, _ := static.ReadFile("static/index.html")
	for _, bad := range []string{"http://", "https://", "<script>", "javascript:"} {
		if strings.Contains(strings.ToLower(string(html)), bad) {
			t.Errorf("index.html contains %q (external resources or inline script)", bad)
		}
	}
	if m := regexp.MustCompile(`(?i)\son[a-z]+\s*=`).FindString(string(html)); m != "" {
		t.Errorf("index.html has an inline event handler: %q", m)
	}
}
