package shared

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	wedge "github.com/wedge-run/wedge/sdk/go"
)

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true) // '<' as \u003c: harmless even if sniffed as HTML
	enc.Encode(v)
}

// WriteError answers status with {"error": msg}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// StoreError answers a failed key-value operation.
func StoreError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, wedge.ErrConflict):
		WriteError(w, http.StatusConflict, "a concurrent change got there first; try again")
	case errors.Is(err, wedge.ErrTooLarge):
		WriteError(w, http.StatusRequestEntityTooLarge, "too large")
	case errors.Is(err, wedge.ErrBusy), errors.Is(err, wedge.ErrInternal), errors.Is(err, wedge.ErrUnsupported):
		w.Header().Set("Retry-After", "1")
		WriteError(w, http.StatusServiceUnavailable, "storage unavailable, try again")
	default:
		wedge.Logger().Error("storage failed", "err", err)
		WriteError(w, http.StatusInternalServerError, "storage failed")
	}
}

// DecodeJSON reads a JSON object of at most MaxBodyBytes into v,
// answering the request itself (and returning false) when the body is
// too large (413), not UTF-8, not JSON or has unknown fields (400).
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		WriteError(w, http.StatusUnsupportedMediaType, "send application/json")
		return false
	}
	if r.ContentLength > MaxBodyBytes {
		WriteError(w, http.StatusRequestEntityTooLarge, "the request body is over 16 KiB")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			WriteError(w, http.StatusRequestEntityTooLarge, "the request body is over 16 KiB")
			return false
		}
		WriteError(w, http.StatusBadRequest, "reading the request body failed")
		return false
	}
	if !utf8.Valid(body) {
		WriteError(w, http.StatusBadRequest, "the request body must be UTF-8")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return false
	}
	if dec.More() {
		WriteError(w, http.StatusBadRequest, "invalid JSON: data after the object")
		return false
	}
	return true
}

// BearerToken returns the token of an "Authorization: Bearer" header, or "".
func BearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// Authenticate returns the user of the request's session. Without a
// valid, unexpired session it answers 401 itself and returns ok=false.
func Authenticate(w http.ResponseWriter, r *http.Request) (username string, ok bool) {
	token := BearerToken(r)
	if token == "" {
		unauthorized(w, "log in first: send Authorization: Bearer <token>")
		return "", false
	}
	if !ValidToken(token) {
		unauthorized(w, "invalid or expired session: log in again")
		return "", false
	}
	v, _, err := wedge.KV("").Get(SessionKey(token))
	if errors.Is(err, wedge.ErrNotFound) {
		unauthorized(w, "invalid or expired session: log in again")
		return "", false
	}
	if err != nil {
		StoreError(w, err)
		return "", false
	}
	username = string(v)
	if !ValidUsername(username) {
		wedge.Logger().Error("corrupt session record")
		unauthorized(w, "invalid or expired session: log in again")
		return "", false
	}
	return username, true
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="chat"`)
	WriteError(w, http.StatusUnauthorized, msg)
}

// JSONMux wraps a ServeMux so that its own 404 and 405 answers are JSON
// too (with the Allow header the mux computes).
type JSONMux struct{ *http.ServeMux }

// NewJSONMux returns an empty JSONMux.
func NewJSONMux() JSONMux { return JSONMux{http.NewServeMux()} }

func (m JSONMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := m.Handler(r); pattern == "" {
		rec := &statusRecorder{header: w.Header(), status: http.StatusOK}
		m.ServeMux.ServeHTTP(rec, r)
		msg := strings.ToLower(http.StatusText(rec.status))
		if rec.status == http.StatusNotFound {
			msg = "no such API endpoint: " + r.Method + " " + r.URL.Path
		}
		WriteError(w, rec.status, msg)
		return
	}
	m.ServeMux.ServeHTTP(w, r)
}

type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }
func (s *statusRecorder) Write(p []byte) (int, error) { return len(p), nil }
