package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/wedge-run/wedge/model"
)

// TestRouteMatchesAgreesWithTable checks model.RouteMatches (used to forward
// requests for functions still being installed) against the route
// table, route by route.
func TestRouteMatchesAgreesWithTable(t *testing.T) {
	routes := []string{"/", "/a", "/a/...", "/a/b", "/api/...", "/..."}
	paths := []string{"/", "/a", "/a/", "/a/b", "/a/bc", "/ab", "/api", "/api/", "/api/x/y", "/apix", "/b"}
	for _, r := range routes {
		if err := model.ValidateRoute(r); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		tab := newRouteTable()
		tab.add(&Function{Record: model.Function{FunctionSpec: model.FunctionSpec{Name: "f", Routes: []string{r}}}})
		for _, p := range paths {
			f, _ := tab.match([]byte(p))
			if got, want := model.RouteMatches(r, []byte(p)), f != nil; got != want {
				t.Errorf("model.RouteMatches(%q, %q) = %v, the table says %v", r, p, got, want)
			}
		}
	}
	// model.MoreSpecific agrees with the table's choice between two routes.
	for i, a := range routes {
		for _, b := range routes[i+1:] {
			tab := newRouteTable()
			tab.add(&Function{Record: model.Function{FunctionSpec: model.FunctionSpec{Name: "a", Routes: []string{a}}}})
			tab.add(&Function{Record: model.Function{FunctionSpec: model.FunctionSpec{Name: "b", Routes: []string{b}}}})
			for _, p := range paths {
				if !model.RouteMatches(a, []byte(p)) || !model.RouteMatches(b, []byte(p)) {
					continue
				}
				f, _ := tab.match([]byte(p))
				if got := model.MoreSpecific(a, b); got != (f.Record.Name == "a") {
					t.Errorf("model.MoreSpecific(%q, %q) = %v, but the table serves %s with %s", a, b, got, p, f.Record.Name)
				}
				if model.MoreSpecific(a, b) == model.MoreSpecific(b, a) {
					t.Errorf("model.MoreSpecific(%q, %q) is not antisymmetric", a, b)
				}
			}
		}
	}
}

// TestValidateRouteRefusesNonCanonical checks that every route model.ValidateRoute
// accepts is already in the form the gateway gives incoming paths
// (fasthttp's normalization: "//" collapsed, "." and ".." resolved, %XX
// decoded), and that the routes it refuses as non-canonical are not: such
// a route could be stored but never matched.
func TestValidateRouteRefusesNonCanonical(t *testing.T) {
	normalize := func(p string) string {
		var u fasthttp.URI
		u.SetPath(p)
		return string(u.Path())
	}
	refused := []string{"/a/../b", "/..", "/.", "/a/./b", "//a", "/a//b", "/a/.", "/a/..", "/a/b/..",
		"/a/../...", "/./...", "//...", "/a//...", "/caf%C3%A9", "/a%2Fb", "/%2e%2e/x", "/a\x01b"}
	for _, r := range refused {
		err := model.ValidateRoute(r)
		if !errors.Is(err, model.ErrInvalidRoute) || !strings.Contains(err.Error(), "would never match") {
			t.Errorf("model.ValidateRoute(%q) = %v, want a non-canonical route error", r, err)
		}
	}
	accepted := []string{"/", "/a", "/a/", "/a/b", "/a/b/", "/a/...", "/...", "/a.b/c..d", "/.well-known/x", "/a\\b", "/~u/x_y-z"}
	for _, r := range accepted {
		if err := model.ValidateRoute(r); err != nil {
			t.Errorf("model.ValidateRoute(%q) = %v", r, err)
		}
	}
	// The rule is fasthttp's: an accepted route's base is a fixed point of
	// the normalization, a refused one is not (the control character aside,
	// which fasthttp passes through and the rule refuses anyway).
	for _, r := range accepted {
		base, _ := model.SplitRoute(r)
		if base == "" {
			continue
		}
		if got := normalize(base); got != base {
			t.Errorf("accepted route %q normalizes to %q", r, got)
		}
	}
	for _, r := range refused[:len(refused)-1] {
		base, prefix := model.SplitRoute(r)
		if prefix {
			base += "/x" // the paths a prefix route means to match
		}
		if got := normalize(base); got == base {
			t.Errorf("refused route %q is a fixed point of the normalization", r)
		}
	}
}
