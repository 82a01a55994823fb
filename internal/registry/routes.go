package registry

import "github.com/wedge-run/wedge/model"

// Route forms, their validation and matching rules are package model's
// (model.ValidateRoute, model.RouteMatches); the table below indexes them.

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
		base, isPrefix := model.SplitRoute(r)
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
		b, p := model.SplitRoute(r)
		if b == base && p == prefix {
			return r
		}
	}
	return ""
}
