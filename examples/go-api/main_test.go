package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// These tests run natively, where there is no wedge host: they cover
// routing and validation, and that storage errors become JSON statuses.
// The key-value paths need a wedge host.

func serve(method, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	newAPI().ServeHTTP(rec, r)
	return rec
}

func TestRoutingAndValidation(t *testing.T) {
	cases := []struct {
		method, target, body string
		status               int
		errText              string
		allow                string
	}{
		{"GET", "/api/nowhere", "", 404, "not found", ""},
		{"PUT", "/api/notes/1", "", 405, "method not allowed", "DELETE, GET, HEAD"},
		{"GET", "/api/notes/abc", "", 400, "id must be a positive integer", ""},
		{"DELETE", "/api/notes/0", "", 400, "id must be a positive integer", ""},
		{"POST", "/api/notes", `{"title":`, 400, "invalid JSON", ""},
		{"POST", "/api/notes", `{"title":"x","extra":1}`, 400, "invalid JSON", ""},
		{"POST", "/api/notes", `{"title":"  "}`, 400, "title is required", ""},
		{"POST", "/api/notes", `{"title":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "64 KiB", ""},
		{"GET", "/api/notes?limit=0", "", 400, "limit must be", ""},
		// No host here: the store reports "unsupported", served as 503.
		{"POST", "/api/notes", `{"title":"hello"}`, 503, "storage unavailable", ""},
		{"GET", "/api/notes/7", "", 503, "storage unavailable", ""},
		{"GET", "/api/notes", "", 503, "storage unavailable", ""},
	}
	for _, c := range cases {
		rec := serve(c.method, c.target, c.body)
		var out struct{ Error string }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Errorf("%s %s: body %q is not JSON", c.method, c.target, rec.Body.String())
		}
		if rec.Code != c.status || !strings.Contains(out.Error, c.errText) {
			t.Errorf("%s %s = %d %q, want %d %q", c.method, c.target, rec.Code, out.Error, c.status, c.errText)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", c.method, c.target, ct)
		}
		if got := rec.Header().Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.target, got, c.allow)
		}
	}
}

func TestNoteKeysSortByID(t *testing.T) {
	if !(noteKey(9) < noteKey(10) && noteKey(10) < noteKey(1<<62)) {
		t.Error("note keys do not sort by id")
	}
}
