package outbound

import (
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wedge-run/wedge/model"
)

// Rule is one entry of an allow-list (model.HostRule: the manifest and
// the registry check entries with the same parser).
type Rule = model.HostRule

// AllowList is a function's list of allowed destinations. The zero value
// allows nothing.
type AllowList struct {
	rules []Rule
}

// ErrBadRule reports an allow-list entry that does not parse.
var ErrBadRule = model.ErrInvalidHost

// ParseRule parses one allow-list entry.
func ParseRule(s string) (Rule, error) { return model.ParseHostRule(s) }

// ParseAllowList parses every entry; the first bad one is the error.
func ParseAllowList(entries []string) (AllowList, error) {
	var l AllowList
	for _, e := range entries {
		r, err := ParseRule(strings.TrimSpace(e))
		if err != nil {
			return AllowList{}, err
		}
		l.rules = append(l.rules, r)
	}
	return l, nil
}

// Normalize parses and re-renders entries in canonical form, without
// duplicates: what the registry stores.
func Normalize(entries []string) ([]string, error) {
	l, err := ParseAllowList(entries)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range l.rules {
		if s := r.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// Empty reports whether the list allows nothing.
func (l AllowList) Empty() bool { return len(l.rules) == 0 }

// Allows reports whether a request to u may be sent.
func (l AllowList) Allows(u *url.URL) bool {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := defaultPort(scheme)
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return false
		}
		port = n
	}
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
	}
	for _, r := range l.rules {
		if r.Scheme != scheme || r.Port != port {
			continue
		}
		if r.Host == host {
			return true
		}
		if suffix, ok := strings.CutPrefix(r.Host, "*"); ok && r.Addr == (netip.Addr{}) &&
			strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
			return true
		}
	}
	return false
}

// allowsAddr reports whether the list names this exact address and port,
// which lets a guest reach a private or loopback address.
func (l AllowList) allowsAddr(ap netip.AddrPort) bool {
	for _, r := range l.rules {
		if r.Addr.IsValid() && r.Addr == ap.Addr().Unmap() && r.Port == int(ap.Port()) {
			return true
		}
	}
	return false
}

// addrKey is the canonical set of address rules: functions whose lists
// name the same private addresses may share pooled connections.
func (l AllowList) addrKey() string {
	var keys []string
	for _, r := range l.rules {
		if r.Addr.IsValid() && special(r.Addr) {
			keys = append(keys, netip.AddrPortFrom(r.Addr, uint16(r.Port)).String())
		}
	}
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), ",")
}

func defaultPort(scheme string) int { return model.DefaultPort(scheme) }
