package model

import (
	"errors"
	"testing"
)

func TestAffinity(t *testing.T) {
	routes := []string{"/api/rooms/...", "/api/inbox"}
	for _, ok := range []string{"", "/api/rooms/*"} {
		if err := ValidateAffinity(ok, routes); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"api/rooms/*", "/api/rooms", "/api/*/x/*", "/api//*", "/api/rooms/*/messages", "/other/*", "/api/inbox/*", "/api/*"} {
		if err := ValidateAffinity(bad, routes); !errors.Is(err, ErrInvalidAffinity) {
			t.Errorf("%q: %v, want ErrInvalidAffinity", bad, err)
		}
	}
	for path, want := range map[string]string{
		"/api/rooms/general":          "general",
		"/api/rooms/general/":         "general",
		"/api/rooms/general/messages": "general",
		"/api/rooms/":                 "",
		"/api/rooms":                  "",
		"/api/roomsX/general":         "",
		"/api/inbox":                  "",
	} {
		key, ok := AffinityKey("/api/rooms/*", []byte(path))
		if string(key) != want || ok != (want != "") {
			t.Errorf("AffinityKey(%q) = %q %v, want %q", path, key, ok, want)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { AffinityKey("/api/rooms/*", []byte("/api/rooms/general/messages")) }); allocs != 0 {
		t.Errorf("AffinityKey allocates %v times", allocs)
	}
}
