package console

import (
	"path"

	"github.com/wedge-run/wedge/internal/events"
)

// What a token with a functions pattern (wedge tokens create --functions
// GLOB) sees through the console's own endpoints: only the functions the
// pattern matches, and only the queues, schedules and buckets that feed
// one of them. The admin API checks the pattern on every
// /v1/functions/{name} route itself (access.Authorize); these endpoints
// list several functions at once, so they filter.

// visible says whether a token with the functions pattern may see the
// function name ("" sees every function).
func visible(pattern, name string) bool {
	if pattern == "" {
		return true
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// matching returns the names pattern sees, in their order.
func matching(pattern string, names []string) []string {
	if pattern == "" {
		return names
	}
	out := []string{}
	for _, n := range names {
		if visible(pattern, n) {
			out = append(out, n)
		}
	}
	return out
}

// scopeEvents keeps what feeds a function pattern sees: the schedules of
// those functions, the queues they consume and the buckets whose uploads
// they receive, each listing only those functions.
func scopeEvents(pattern string, qs []events.Queue, ss []events.Schedule, bs []events.Bucket) ([]events.Queue, []events.Schedule, []events.Bucket) {
	if pattern == "" {
		return qs, ss, bs
	}
	outQ, outS, outB := []events.Queue{}, []events.Schedule{}, []events.Bucket{}
	for _, q := range qs {
		if q.Consumers = matching(pattern, q.Consumers); len(q.Consumers) > 0 {
			outQ = append(outQ, q)
		}
	}
	for _, s := range ss {
		if visible(pattern, s.Function) {
			outS = append(outS, s)
		}
	}
	for _, b := range bs {
		if b.Triggers = matching(pattern, b.Triggers); len(b.Triggers) > 0 {
			outB = append(outB, b)
		}
	}
	return outQ, outS, outB
}
