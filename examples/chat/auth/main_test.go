package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestDummyHashMatchesCost(t *testing.T) {
	cost, err := bcrypt.Cost(dummyHash)
	if err != nil || cost != bcryptCost {
		t.Fatalf("the dummy hash has cost %d (%v), logins use %d", cost, err, bcryptCost)
	}
	if bcrypt.CompareHashAndPassword(dummyHash, prehash("x")) != nil {
		t.Fatal("the dummy hash is not the hash of x")
	}
}

func TestPrehash(t *testing.T) {
	long := strings.Repeat("é", 128) // 256 bytes: bcrypt alone would see the first 72
	if p := prehash(long); len(p) != 44 || string(p) == string(prehash(long[:254]+"e")) {
		t.Fatalf("prehash %q", p)
	}
}

// Natively there is no wedge host: validation answers before the store.
func TestValidationWithoutHost(t *testing.T) {
	cases := []struct {
		method, target, body string
		status               int
	}{
		{"POST", "/api/auth/register", `{"username":"ab","password":"long enough"}`, 400},
		{"POST", "/api/auth/register", `{"username":"abc","password":"short"}`, 400},
		{"POST", "/api/auth/register", `{"username":"abc"`, 400},
		{"POST", "/api/auth/login", `{"username":"A B","password":"whatever1"}`, 401},
		{"GET", "/api/auth/login", ``, 405},
		{"GET", "/api/auth/me", ``, 401},
		{"POST", "/api/auth/logout", ``, 401},
		{"POST", "/api/auth/register", `{"username":"abc","password":"long enough"}`, 503}, // no store natively
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		w := httptest.NewRecorder()
		newAuth().ServeHTTP(w, r)
		var out struct{ Error string }
		if w.Code != c.status || json.Unmarshal(w.Body.Bytes(), &out) != nil || out.Error == "" {
			t.Errorf("%s %s %s: %d %q, want %d", c.method, c.target, c.body, w.Code, w.Body.String(), c.status)
		}
	}
}
