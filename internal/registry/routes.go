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
	base, prefix := splitRoute(p)
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

// splitRoute returns the route's base path and whether it is a prefix route.
func splitRoute(r string) (base string, prefix bool) {
	if strings.HasSuffix(r, "/...") {
		return strings.TrimSuffix(r, "/..."), true
	}
	return r, false
}

// routeTable maps hosts and paths to functions: one path table per
// exact host, one per wildcard (keyed by its suffix, ".example.com"), and
// one for the routes without a host.
type routeTable struct {
	any   pathTable
	hosts map[string]*pathTable
	wild  map[string]*pathTable
	owner map[string]string // route -> function name
}

// pathTable maps paths to functions, for one host.
type pathTable struct {
	host   string // as in the routes: "", "api.example.com" or "*.example.com"
	exact  map[string]*Function
	prefix map[string]*Function // base path ("" for /...) -> function
}

func newRouteTable() *routeTable {
	return &routeTable{any: pathTable{exact: map[string]*Function{}, prefix: map[string]*Function{}},
		hosts: map[string]*pathTable{}, wild: map[string]*pathTable{}, owner: map[string]string{}}
}

func (t *routeTable) add(f *Function) {
	for _, r := range f.Record.Routes {
		host, p := SplitRoute(r)
		pt := &t.any
		if host != "" {
			m, key := t.hosts, host
			if suffix, ok := strings.CutPrefix(host, "*"); ok {
				m, key = t.wild, suffix
			}
			if pt = m[key]; pt == nil {
				pt = &pathTable{host: host, exact: map[string]*Function{}, prefix: map[string]*Function{}}
				m[key] = pt
			}
		}
		base, isPrefix := splitRoute(p)
		if isPrefix {
			pt.prefix[base] = f
		} else {
			pt.exact[base] = f
		}
		t.owner[r] = f.Record.Name
	}
}

// match finds the function for a request's Host and path without
// allocating: the routes of its exact host, then its wildcards from the
// longest suffix, then the routes without a host. With no host routes
// deployed it costs two length checks more than a path-only table.
func (t *routeTable) match(rawHost, path []byte) (*Function, string) {
	if len(t.hosts) > 0 || len(t.wild) > 0 {
		var buf [256]byte
		host := CanonicalHost(buf[:0], rawHost)
		if pt := t.hosts[string(host)]; pt != nil {
			if f, base, prefix := pt.match(path); f != nil {
				return f, routeOf(f, pt.host, base, prefix)
			}
		}
		if len(t.wild) > 0 {
			for i := 0; i < len(host); i++ {
				if host[i] != '.' || i == 0 {
					continue
				}
				if pt := t.wild[string(host[i:])]; pt != nil {
					if f, base, prefix := pt.match(path); f != nil {
						return f, routeOf(f, pt.host, base, prefix)
					}
				}
			}
		}
	}
	if f, base, prefix := t.any.match(path); f != nil {
		return f, routeOf(f, "", base, prefix)
	}
	return nil, ""
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

// match finds the function for path: the exact table first, then every
// prefix of path at a '/' boundary, longest first, so its cost depends on
// the path's depth, not on the number of routes.
func (t *pathTable) match(path []byte) (f *Function, base []byte, prefix bool) {
	if f := t.exact[string(path)]; f != nil {
		return f, path, false
	}
	if len(t.prefix) == 0 {
		return nil, nil, false
	}
	p := path
	if len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	for {
		if f := t.prefix[string(p)]; f != nil {
			return f, p, true
		}
		i := lastSlash(p)
		if i < 0 {
			return nil, nil, false
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

// routeOf returns the route string of f that produced the match. It
// allocates nothing: the string comes from f's record.
func routeOf(f *Function, host string, base []byte, prefix bool) string {
	for _, r := range f.Record.Routes {
		h, p := SplitRoute(r)
		if h != host {
			continue
		}
		b, pr := splitRoute(p)
		if b == string(base) && pr == prefix {
			return r
		}
	}
	return ""
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
	ab, apx := splitRoute(ap)
	bb, bpx := splitRoute(bp)
	if ab == bb {
		return !apx && bpx
	}
	return len(ab) > len(bb)
}
