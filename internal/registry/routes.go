package registry

import (
	"strings"

	"github.com/wedge-run/wedge/model"
)

// Route forms, hosts, their validation and the rules of a match are
// package model's (model.ValidateRoute, model.RouteMatches,
// model.MoreSpecific); the table below indexes them for the gateway.

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
		host, p := model.SplitRoute(r)
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
		base, isPrefix := model.SplitPath(p)
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
		host := model.CanonicalHost(buf[:0], rawHost)
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
		h, p := model.SplitRoute(r)
		if h != host {
			continue
		}
		b, pr := model.SplitPath(p)
		if b == string(base) && pr == prefix {
			return r
		}
	}
	return ""
}
