package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// Natively there is no wedge host: these tests cover routing and the
// answers given before the store is reached.
func TestRoutingWithoutHost(t *testing.T) {
	token := "Bearer " + strings.Repeat("ab", 32)
	cases := []struct {
		method, target, auth string
		status               int
	}{
		{"GET", "/api/rooms", "", 401},
		{"POST", "/api/rooms/lobby/messages", "", 401},
		{"GET", "/api/inbox", "Bearer nope", 401},
		{"DELETE", "/api/rooms", token, 405},
		{"GET", "/api/rooms/lobby/nothing", token, 404},
		{"GET", "/api/rooms", token, 503}, // the store is missing natively
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		newAPI().ServeHTTP(w, r)
		var out struct{ Error string }
		if w.Code != c.status || json.Unmarshal(w.Body.Bytes(), &out) != nil || out.Error == "" {
			t.Errorf("%s %s: %d %q, want %d with a JSON error", c.method, c.target, w.Code, w.Body.String(), c.status)
		}
	}
}
