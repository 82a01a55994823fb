package registry

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/wedge-run/wedge/model"
)

// TestRouteMatchesAgreesWithTable checks model.RouteMatches (used to forward
// requests for functions still being installed) against the route
// table, route by route, over hosts and paths.
func TestRouteMatchesAgreesWithTable(t *testing.T) {
	routes := []string{"/", "/a", "/a/...", "/a/b", "/api/...", "/...",
		"api.example.com/...", "api.example.com/a", "*.example.com/a/...", "*.b.example.com/...", "example.com/a"}
	paths := []string{"/", "/a", "/a/", "/a/b", "/a/bc", "/ab", "/api", "/api/", "/api/x/y", "/apix", "/b"}
	hosts := []string{"", "api.example.com", "API.Example.com:8443", "x.b.example.com", "b.example.com", "example.com.", "other.org", "[::1]:80"}
	for _, r := range routes {
		if err := model.ValidateRoute(r); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		tab := newRouteTable()
		tab.add(&Function{Record: model.Function{FunctionSpec: model.FunctionSpec{Name: "f", Routes: []string{r}}}})
		for _, h := range hosts {
			for _, p := range paths {
				f, route := tab.match([]byte(h), []byte(p))
				if got, want := model.RouteMatches(r, []byte(h), []byte(p)), f != nil; got != want {
					t.Errorf("model.RouteMatches(%q, %q, %q) = %v, the table says %v", r, h, p, got, want)
				}
				if f != nil && route != r {
					t.Errorf("%q %q matched route %q, want %q", h, p, route, r)
				}
			}
		}
	}
	// model.MoreSpecific agrees with the table's choice between two routes.
	for i, a := range routes {
		for _, b := range routes[i+1:] {
			tab := newRouteTable()
			tab.add(&Function{Record: model.Function{FunctionSpec: model.FunctionSpec{Name: "a", Routes: []string{a}}}})
			tab.add(&Function{Record: model.Function{FunctionSpec: model.FunctionSpec{Name: "b", Routes: []string{b}}}})
			for _, h := range hosts {
				for _, p := range paths {
					if !model.RouteMatches(a, []byte(h), []byte(p)) || !model.RouteMatches(b, []byte(h), []byte(p)) {
						continue
					}
					f, _ := tab.match([]byte(h), []byte(p))
					if got := model.MoreSpecific(a, b); got != (f.Record.Name == "a") {
						t.Errorf("model.MoreSpecific(%q, %q) = %v, but the table serves %s%s with %s", a, b, got, h, p, f.Record.Name)
					}
					if model.MoreSpecific(a, b) == model.MoreSpecific(b, a) {
						t.Errorf("model.MoreSpecific(%q, %q) is not antisymmetric", a, b)
					}
				}
			}
		}
	}
}

// TestHostRoutes: the Host picks among host routes first; a host route
// with a short path beats a hostless route with a longer one; a request
// whose host's routes do not cover its path falls through to wildcards,
// then to hostless routes.
func TestHostRoutes(t *testing.T) {
	tab := newRouteTable()
	for name, routes := range map[string][]string{
		"api":      {"api.example.com/..."},
		"api-v2":   {"api.example.com/v2/..."},
		"tenants":  {"*.example.com/..."},
		"deep":     {"*.eu.example.com/x"},
		"fallback": {"/...", "/v2/users"},
	} {
		tab.add(&Function{Record: model.Function{FunctionSpec: model.FunctionSpec{Name: name, Routes: routes}}})
	}
	for _, c := range []struct{ host, path, want string }{
		{"api.example.com", "/v2/users", "api-v2"},
		{"api.example.com:8443", "/v1/users", "api"},
		{"API.EXAMPLE.COM.", "/", "api"},
		{"acme.example.com", "/v2/users", "tenants"},
		{"a.eu.example.com", "/x", "deep"},
		{"a.eu.example.com", "/y", "tenants"},
		{"example.com", "/v2/users", "fallback"},
		{"localhost:8080", "/v2/users", "fallback"},
		{"", "/", "fallback"},
	} {
		f, _ := tab.match([]byte(c.host), []byte(c.path))
		if f == nil || f.Record.Name != c.want {
			t.Errorf("%s%s: served by %v, want %s", c.host, c.path, f, c.want)
		}
	}
	for _, c := range [][2]string{{"Tenant.Example.com:443", "/a/b/c"}, {"api.example.com", "/v2/users/1"}, {"other", "/v2/users"}} {
		host, path := []byte(c[0]), []byte(c[1])
		if n := testing.AllocsPerRun(100, func() { tab.match(host, path) }); n != 0 {
			t.Errorf("match(%s%s) allocates %v times", c[0], c[1], n)
		}
	}
}

func TestValidateRouteHosts(t *testing.T) {
	for _, r := range []string{"api.example.com/", "api.example.com/v1/...", "*.example.com/...", "x-1.a.b/c", "localhost/..."} {
		if err := model.ValidateRoute(r); err != nil {
			t.Errorf("model.ValidateRoute(%q) = %v", r, err)
		}
	}
	for r, why := range map[string]string{
		"api.example.com":     "must start with /",
		"API.example.com/":    "lower case",
		"api.example.com:80/": "no port",
		"*.com/":              "two labels",
		"a.*.example.com/":    "wildcard",
		"*example.com/":       "wildcard",
		"a..b/":               "labels",
		"-a.b/":               "'-'",
		"café.example.com/":   "xn--",
	} {
		err := model.ValidateRoute(r)
		if !errors.Is(err, model.ErrInvalidRoute) || !strings.Contains(err.Error(), why) {
			t.Errorf("model.ValidateRoute(%q) = %v, want %q", r, err, why)
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
		base, _ := model.SplitPath(r)
		if base == "" {
			continue
		}
		if got := normalize(base); got != base {
			t.Errorf("accepted route %q normalizes to %q", r, got)
		}
	}
	for _, r := range refused[:len(refused)-1] {
		base, prefix := model.SplitPath(r)
		if prefix {
			base += "/x" // the paths a prefix route means to match
		}
		if got := normalize(base); got == base {
			t.Errorf("refused route %q is a fixed point of the normalization", r)
		}
	}
}

// BenchmarkMatch: the cost of host routes on the route match, with none
// deployed (only hostless routes) and with 1000 hosts.
func BenchmarkMatch(b *testing.B) {
	for _, hosts := range []int{0, 1000} {
		tab := newRouteTable()
		tab.add(&Function{Record: model.Function{FunctionSpec: model.FunctionSpec{Name: "api", Routes: []string{"/api/...", "/", "/static/..."}}}})
		for i := range hosts {
			tab.add(&Function{Record: model.Function{FunctionSpec: model.FunctionSpec{Name: "h", Routes: []string{fmt.Sprintf("h%d.example.com/...", i), fmt.Sprintf("*.t%d.example.com/...", i)}}}})
		}
		host, path := []byte("www.Example.com:8080"), []byte("/api/v1/users/42")
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tab.match(host, path)
			}
		})
	}
}
