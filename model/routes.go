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
// Any of them may start with a host, which the request's Host must
// match (its port stripped, in any letter case) before its path is
// considered:
//
//	api.example.com/v1/...   only requests for api.example.com
//	*.example.com/...        requests for any subdomain of example.com,
//	                         at any depth (a.example.com, a.b.example.com),
//	                         not example.com itself
//
// A request is matched against the routes of its exact host first, then
// those of the wildcards that cover it, the longest suffix first, then
// the routes without a host; within one host, the longest path match
// wins and an exact route beats a prefix route of the same path.

// ValidateRoute checks one route.
func ValidateRoute(r string) error {
	switch {
	case r == "":
		return fmt.Errorf("%w: empty", ErrInvalidRoute)
	case len(r) > 1024:
		return fmt.Errorf("%w: longer than 1024 bytes", ErrInvalidRoute)
	case strings.ContainsAny(r, "?# \t\r\n"):
		return fmt.Errorf("%w %q: must not contain a query, fragment or spaces", ErrInvalidRoute, r)
	}
	host, p := SplitRoute(r)
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%w %q: must start with / or with a host followed by a path (api.example.com/v1/...)", ErrInvalidRoute, r)
	}
	if host != "" {
		if why := invalidHost(host); why != "" {
			return fmt.Errorf("%w %q: host %q: %s", ErrInvalidRoute, r, host, why)
		}
	}
	base, prefix := SplitPath(p)
	if strings.Contains(base, "...") {
		return fmt.Errorf("%w %q: \"...\" may only end a route, as /...", ErrInvalidRoute, r)
	}
	if why := nonCanonical(base, prefix); why != "" {
		return fmt.Errorf("%w %q: %s: request paths are normalized, so it would never match", ErrInvalidRoute, r, why)
	}
	return nil
}

// SplitRoute returns a route's host ("" for none; "*.example.com" for a
// wildcard) and its path.
func SplitRoute(r string) (host, path string) {
	if strings.HasPrefix(r, "/") {
		return "", r
	}
	i := strings.IndexByte(r, '/')
	if i < 0 {
		return r, ""
	}
	return r[:i], r[i:]
}

// invalidHost explains why h cannot be a route's host, or returns "".
// Hosts are written as requests' Host headers are compared: lower case,
// no port, no trailing dot.
func invalidHost(h string) string {
	name := strings.TrimPrefix(h, "*.")
	switch {
	case len(h) > 253:
		return "longer than 253 bytes"
	case strings.Contains(name, "*"):
		return "a wildcard may only be a first label of its own (*.example.com)"
	case strings.Contains(h, ":"):
		return "no port: the request's port is not matched"
	case strings.ToLower(h) != h:
		return "write it in lower case (hosts are matched in any case)"
	}
	labels := strings.Split(name, ".")
	if strings.HasPrefix(h, "*.") && len(labels) < 2 {
		return "a wildcard needs a domain of two labels or more (*.example.com)"
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "labels are 1 to 63 characters, separated by single dots"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "use letters, digits and '-' (a Unicode name in its xn-- form)"
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "a label may not start or end with '-'"
		}
	}
	return ""
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

// SplitPath returns a route's path's base and whether it is a prefix
// route ("/a/..." gives "/a", true).
func SplitPath(r string) (base string, prefix bool) {
	if strings.HasSuffix(r, "/...") {
		return strings.TrimSuffix(r, "/..."), true
	}
	return r, false
}

// CanonicalHost appends the form of a Host header that routes are
// compared with: lower case, without its port or a trailing dot. An IPv6
// literal keeps its brackets.
func CanonicalHost(dst, host []byte) []byte {
	if i := lastIndexByte(host, ':'); i >= 0 && lastIndexByte(host, ']') < i {
		host = host[:i]
	}
	if n := len(host); n > 0 && host[n-1] == '.' {
		host = host[:n-1]
	}
	for _, c := range host {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// RouteMatches reports whether route (a valid route, see ValidateRoute)
// matches a request for host (a raw Host header) and path by itself, as
// the route table would match it if route were its only entry.
func RouteMatches(route string, host, path []byte) bool {
	h, p := SplitRoute(route)
	if h != "" && !hostMatches(h, host) {
		return false
	}
	return pathMatches(p, path)
}

func hostMatches(routeHost string, raw []byte) bool {
	var buf [256]byte
	host := CanonicalHost(buf[:0], raw)
	if suffix, ok := strings.CutPrefix(routeHost, "*"); ok {
		return len(host) > len(suffix) && string(host[len(host)-len(suffix):]) == suffix
	}
	return string(host) == routeHost
}

func pathMatches(route string, path []byte) bool {
	base, prefix := SplitPath(route)
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

// hostRank orders hosts by how specific they are: an exact host, then
// wildcards by the length of their suffix, then no host.
func hostRank(h string) int {
	switch {
	case h == "":
		return 0
	case strings.HasPrefix(h, "*"):
		return 1 + len(h)
	}
	return 1 << 20
}

// MoreSpecific reports whether route a wins over route b for a request
// both match: the more specific host first (exact, then the longer
// wildcard, then none), then an exact route over a prefix route, else
// the longer base.
func MoreSpecific(a, b string) bool {
	ah, ap := SplitRoute(a)
	bh, bp := SplitRoute(b)
	if ra, rb := hostRank(ah), hostRank(bh); ra != rb {
		return ra > rb
	}
	ab, apx := SplitPath(ap)
	bb, bpx := SplitPath(bp)
	if ab == bb {
		return !apx && bpx
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
