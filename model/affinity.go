package model

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidAffinity reports a malformed affinity pattern.
var ErrInvalidAffinity = errors.New("invalid affinity")

// Affinity pins requests to the node that owns a key, as Durable Objects
// pin them to an object: in a cluster, every request whose path matches
// the function's affinity pattern is served by one node per key (the
// rendezvous owner of function name + key among the alive members that
// have the function installed), and the others forward it there, or
// refuse it with 503 when they cannot: never run it themselves. Work on one key (a chat room, an
// account) then runs on one node, where the key-value store's
// compare-and-swap and increment are atomic, instead of on several whose
// writes would meet only in last-writer-wins. On a single node, or for
// paths outside the pattern, nothing changes.
//
// The pattern is a path whose last segment is "*", the key:
// "/api/rooms/*" gives the key "general" to "/api/rooms/general" and to
// "/api/rooms/general/messages", and no key to "/api/rooms" or
// "/api/inbox".

// ValidateAffinity checks an affinity pattern ("" means none) against the
// function's routes: some route must be able to serve paths it matches.
func ValidateAffinity(pattern string, routes []string) error {
	if pattern == "" {
		return nil
	}
	prefix, ok := strings.CutSuffix(pattern, "/*")
	switch {
	case !ok || !strings.HasPrefix(pattern, "/"):
		return fmt.Errorf("%w %q: want a path ending in /*, such as /api/rooms/*", ErrInvalidAffinity, pattern)
	case strings.ContainsAny(prefix, "*?# \t\r\n") || strings.Contains(prefix, "..."):
		return fmt.Errorf("%w %q: only the last segment may be *", ErrInvalidAffinity, pattern)
	case strings.Contains(prefix, "//"):
		return fmt.Errorf("%w %q: empty path segment", ErrInvalidAffinity, pattern)
	}
	if why := nonCanonical(prefix, true); why != "" {
		return fmt.Errorf("%w %q: %s: request paths are normalized, so it would never apply", ErrInvalidAffinity, pattern, why)
	}
	probe := []byte(prefix + "/key")
	for _, r := range routes {
		if _, rp := SplitRoute(r); pathMatches(rp, probe) {
			return nil
		}
	}
	return fmt.Errorf("%w %q: none of the function's routes serves %s", ErrInvalidAffinity, pattern, probe)
}

// AffinityKey returns the key path has under pattern (a valid pattern),
// or false when the pattern does not apply to path. It does not
// allocate.
func AffinityKey(pattern string, path []byte) ([]byte, bool) {
	prefix := pattern[:len(pattern)-1] // keeps the trailing '/'
	if len(path) <= len(prefix) || string(path[:len(prefix)]) != prefix {
		return nil, false
	}
	key := path[len(prefix):]
	for i, c := range key {
		if c == '/' {
			key = key[:i]
			break
		}
	}
	return key, len(key) > 0
}
