package registry

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRoute reports a malformed route.
var ErrInvalidRoute = errors.New("invalid route")

// Route forms:
//
//	/path       matches exactly /path
//	/path/...   matches /path and everything below it
//	/...        matches every path
//
// The longest match wins; an exact route beats a prefix route of the same
// path.

// ValidateRoute checks one route.
func ValidateRoute(r string) error {
	switch {
	case r == "":
		return fmt.Errorf("%w: empty", ErrInvalidRoute)
	case !strings.HasPrefix(r, "/"):
		return fmt.Errorf("%w %q: must start with /", ErrInvalidRoute, r)
	case len(r) > 1024:
		return fmt.Errorf("%w: longer than 1024 bytes", ErrInvalidRoute)
	case strings.ContainsAny(r, "?# \t\r\n"):
		return fmt.Errorf("%w %q: must not contain a query, fragment or spaces", ErrInvalidRoute, r)
	}
	base, prefix := splitRoute(r)
	if strings.Contains(base, "...") {
		return fmt.Errorf("%w %q: \"...\" may only end a route, as /...", ErrInvalidRoute, r)
	}
	if why := nonCanonical(base, prefix); why != "" {
		return fmt.Errorf("%w %q: %s: request paths are normalized, so it would never match", ErrInvalidRoute, r, why)
	}
	return nil
}

// nonCanonical explains why a route's base path is not in the form the
// gateway gives incoming paths, or returns "". The gateway matches the
// normalized, percent-decoded path (fasthttp's): "//" collapses to "/",
// "." and ".." segments are resolved, %XX is decoded. A route that
// normalization would change can never be matched, so it is refused
// rather than stored. An exact route may end with "/" (/a/ matches the
// path /a/); a prefix route's base may not (/a//... would never match).
func nonCanonical(base string, prefix bool) string {
	for i := 0; i < len(base); i++ {
		if c := base[i]; c < 0x20 || c == 0x7f {
			return "control character"
		}
	}
	if strings.Contains(base, "%") {
		return "percent-encoded (write the decoded path)"
	}
	if base == "" || base == "/" && !prefix {
		return ""
	}
	segs := strings.Split(base[1:], "/")
	for i, s := range segs {
		switch {
		case s == "." || s == "..":
			return fmt.Sprintf("%q segment", s)
		case s == "" && (i < len(segs)-1 || prefix):
			return "empty path segment"
		}
	}
	return ""
}

// splitRoute returns the route's base path and whether it is a prefix route.
func splitRoute(r string) (base string, prefix bool) {
	if strings.HasSuffix(r, "/...") {
		return strings.TrimSuffix(r, "/..."), true
	}
	return r, false
}

// routeTable maps paths to functions.
type routeTable struct {
	exact  map[string]*Function
	prefix map[string]*Function // base path ("" for /...) -> function
	owner  map[string]string    // route -> function name
}

func newRouteTable() *routeTable {
	return &routeTable{exact: map[string]*Function{}, prefix: map[string]*Function{}, owner: map[string]string{}}
}

func (t *routeTable) add(f *Function) {
	for _, r := range f.Record.Routes {
		base, isPrefix := splitRoute(r)
		if isPrefix {
			t.prefix[base] = f
		} else {
			t.exact[base] = f
		}
		t.owner[r] = f.Record.Name
	}
}

// match finds the function for path without allocating: the exact table
// first, then every prefix of path at a '/' boundary, longest first, so
// its cost depends on the path's depth, not on the number of routes.
func (t *routeTable) match(path []byte) (*Function, string) {
	if f := t.exact[string(path)]; f != nil {
		return f, routeOf(f, string(path), false)
	}
	if len(t.prefix) == 0 {
		return nil, ""
	}
	p := path
	if len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	for {
		if f := t.prefix[string(p)]; f != nil {
			return f, routeOf(f, string(p), true)
		}
		i := lastSlash(p)
		if i < 0 {
			return nil, ""
		}
		p = p[:i]
	}
}

func lastSlash(p []byte) int {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return i
		}
	}
	return -1
}

// routeOf returns the route string of f that produced the match.
func routeOf(f *Function, base string, prefix bool) string {
	for _, r := range f.Record.Routes {
		b, p := splitRoute(r)
		if b == base && p == prefix {
			return r
		}
	}
	return ""
}

// RouteMatches reports whether route (a valid route, see ValidateRoute)
// matches path by itself, as the route table would match it if route
// were its only entry.
func RouteMatches(route string, path []byte) bool {
	base, prefix := splitRoute(route)
	if !prefix {
		return string(path) == base
	}
	if base == "" {
		return len(path) > 0 && path[0] == '/'
	}
	if len(path) < len(base) || string(path[:len(base)]) != base {
		return false
	}
	return len(path) == len(base) || path[len(base)] == '/'
}

// MoreSpecific reports whether route a wins over route b for a path both
// match: an exact route over a prefix route, else the longer base.
func MoreSpecific(a, b string) bool {
	ab, ap := splitRoute(a)
	bb, bp := splitRoute(b)
	if ab == bb {
		return !ap && bp
	}
	return len(ab) > len(bb)
}
