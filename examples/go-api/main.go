// Command go-api is a small JSON API on the wedge key-value store, routed
// with http.ServeMux. It is deployed under the route /api/... and sees the
// original path:
//
//	POST   /api/notes        {"title": "...", "body": "..."} -> 201 + the note
//	GET    /api/notes        -> {"notes": [...], "more": false}  (?limit=1..1000, default 100)
//	GET    /api/notes/{id}   -> the note, or 404
//	DELETE /api/notes/{id}   -> 204, or 404
//
// Errors are JSON too: {"error": "..."} with a fitting status.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	wedge "github.com/wedge-run/wedge/sdk/go"
)

func init() {
	wedge.Handle(newAPI())
}

func main() {} // never run in a -buildmode=c-shared module

// Note is what the API stores and returns.
type Note struct {
	ID      int64     `json:"id"`
	Title   string    `json:"title"`
	Body    string    `json:"body,omitempty"`
	Created time.Time `json:"created"`
}

const (
	noteKeyPrefix = "note/"
	idCounterKey  = "seq/note"
	maxNoteBytes  = 64 << 10
	maxTitleLen   = 200
)

// noteKey zero-pads the id so that key order is id order.
func noteKey(id int64) string { return fmt.Sprintf("%s%019d", noteKeyPrefix, id) }

type api struct {
	mux *http.ServeMux
	kv  *wedge.Store
}

func newAPI() *api {
	a := &api{mux: http.NewServeMux(), kv: wedge.KV("")}
	a.mux.HandleFunc("POST /api/notes", a.create)
	a.mux.HandleFunc("GET /api/notes", a.list)
	a.mux.HandleFunc("GET /api/notes/{id}", a.get)
	a.mux.HandleFunc("DELETE /api/notes/{id}", a.delete)
	return a
}

// ServeHTTP routes through the mux, answering its own 404 and 405 (with
// the Allow header the mux computes) as JSON.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := a.mux.Handler(r); pattern == "" {
		rec := &statusRecorder{header: w.Header(), status: http.StatusOK}
		a.mux.ServeHTTP(rec, r)
		writeError(w, rec.status, strings.ToLower(http.StatusText(rec.status)))
		return
	}
	a.mux.ServeHTTP(w, r)
}

func (a *api) create(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "send application/json")
		return
	}
	var in struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxNoteBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "a note is at most 64 KiB")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return
	}
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "":
		writeError(w, http.StatusBadRequest, "title is required")
		return
	case len(in.Title) > maxTitleLen:
		writeError(w, http.StatusBadRequest, "title is too long")
		return
	}
	id, err := a.kv.Increment(idCounterKey, 1)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	n := Note{ID: id, Title: in.Title, Body: in.Body, Created: time.Now().UTC().Truncate(time.Millisecond)}
	val, _ := json.Marshal(n)
	if _, err := a.kv.Put(noteKey(id), val, wedge.IfAbsent()); err != nil {
		writeStoreError(w, err)
		return
	}
	wedge.Logger().Info("note created", "id", id)
	w.Header().Set("Location", "/api/notes/"+strconv.FormatInt(id, 10))
	writeJSON(w, http.StatusCreated, n)
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	id, ok := parseID(w, r)
	if !ok {
		return
	}
	val, version, err := a.kv.Get(noteKey(id))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	etag := `"` + strconv.FormatUint(version, 10) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(val, '\n'))
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit must be 1 to 1000")
			return
		}
		limit = n
	}
	out := struct {
		Notes []Note `json:"notes"`
		More  bool   `json:"more"`
	}{Notes: []Note{}}
	for key, err := range a.kv.List(noteKeyPrefix) {
		if err != nil {
			writeStoreError(w, err)
			return
		}
		if len(out.Notes) == limit {
			out.More = true
			break
		}
		val, _, err := a.kv.Get(key)
		if errors.Is(err, wedge.ErrNotFound) {
			continue // deleted since it was listed
		}
		if err != nil {
			writeStoreError(w, err)
			return
		}
		var n Note
		if err := json.Unmarshal(val, &n); err != nil {
			wedge.Logger().Warn("skipping a corrupt note", "key", key, "err", err)
			continue
		}
		out.Notes = append(out.Notes, n)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) delete(w http.ResponseWriter, r *http.Request) {
	id, ok := parseID(w, r)
	if !ok {
		return
	}
	key := noteKey(id)
	// Delete only the version we saw, so that "absent" can be told apart
	// from "deleted" without a race.
	_, version, err := a.kv.Get(key)
	if err == nil {
		err = a.kv.Delete(key, wedge.IfVersion(version))
	}
	if errors.Is(err, wedge.ErrConflict) {
		writeError(w, http.StatusConflict, "the note changed while it was being deleted")
		return
	}
	if err != nil {
		writeStoreError(w, err)
		return
	}
	wedge.Logger().Info("note deleted", "id", id)
	w.WriteHeader(http.StatusNoContent)
}

func parseID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, "id must be a positive integer")
		return 0, false
	}
	return id, true
}

// writeStoreError maps key-value errors to statuses.
func writeStoreError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, wedge.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such note")
	case errors.Is(err, wedge.ErrConflict):
		writeError(w, http.StatusConflict, "conflicting write, retry")
	case errors.Is(err, wedge.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "too large")
	case errors.Is(err, wedge.ErrBusy), errors.Is(err, wedge.ErrInternal), errors.Is(err, wedge.ErrUnsupported):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "storage unavailable")
	default:
		wedge.Logger().Error("storage failed", "err", err)
		writeError(w, http.StatusInternalServerError, "storage failed")
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Del("X-Content-Type-Options")
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// statusRecorder captures the status the mux's own 404/405 handlers set,
// sharing the real header map so that Allow gets through.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }
func (s *statusRecorder) Write(p []byte) (int, error) { return len(p), nil }
