package registry

import (
	"testing"

	"github.com/wedge-run/wedge/storage"
)

// TestRouteMatchesAgreesWithTable checks RouteMatches (used to forward
// requests for functions still being installed) against the route
// table, route by route.
func TestRouteMatchesAgreesWithTable(t *testing.T) {
	routes := []string{"/", "/a", "/a/...", "/a/b", "/api/...", "/..."}
	paths := []string{"/", "/a", "/a/", "/a/b", "/a/bc", "/ab", "/api", "/api/", "/api/x/y", "/apix", "/b"}
	for _, r := range routes {
		if err := ValidateRoute(r); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		tab := newRouteTable()
		tab.add(&Function{Record: storage.Function{Name: "f", Routes: []string{r}}})
		for _, p := range paths {
			f, _ := tab.match([]byte(p))
			if got, want := RouteMatches(r, []byte(p)), f != nil; got != want {
				t.Errorf("RouteMatches(%q, %q) = %v, the table says %v", r, p, got, want)
			}
		}
	}
	// MoreSpecific agrees with the table's choice between two routes.
	for i, a := range routes {
		for _, b := range routes[i+1:] {
			tab := newRouteTable()
			tab.add(&Function{Record: storage.Function{Name: "a", Routes: []string{a}}})
			tab.add(&Function{Record: storage.Function{Name: "b", Routes: []string{b}}})
			for _, p := range paths {
				if !RouteMatches(a, []byte(p)) || !RouteMatches(b, []byte(p)) {
					continue
				}
				f, _ := tab.match([]byte(p))
				if got := MoreSpecific(a, b); got != (f.Record.Name == "a") {
					t.Errorf("MoreSpecific(%q, %q) = %v, but the table serves %s with %s", a, b, got, p, f.Record.Name)
				}
				if MoreSpecific(a, b) == MoreSpecific(b, a) {
					t.Errorf("MoreSpecific(%q, %q) is not antisymmetric", a, b)
				}
			}
		}
	}
}
