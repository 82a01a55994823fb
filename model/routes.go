package model

import (
	"errors"
	"fmt"
	"sort"
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
	base, prefix := SplitRoute(r)
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

// SplitRoute returns the route's base path and whether it is a prefix route.
func SplitRoute(r string) (base string, prefix bool) {
	if strings.HasSuffix(r, "/...") {
		return strings.TrimSuffix(r, "/..."), true
	}
	return r, false
}

// RouteMatches reports whether route (a valid route, see ValidateRoute)
// matches path by itself, as the route table would match it if route
// were its only entry.
func RouteMatches(route string, path []byte) bool {
	base, prefix := SplitRoute(route)
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
	ab, ap := SplitRoute(a)
	bb, bp := SplitRoute(b)
	if ab == bb {
		return !ap && bp
	}
	return len(ab) > len(bb)
}

// NormalizeRoutes validates routes and returns them sorted, without
// duplicates: the form a record stores.
func NormalizeRoutes(routes []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, rt := range routes {
		if err := ValidateRoute(rt); err != nil {
			return nil, err
		}
		if !seen[rt] {
			seen[rt] = true
			out = append(out, rt)
		}
	}
	sort.Strings(out)
	return out, nil
}
