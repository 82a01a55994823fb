package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Rule is one entry of an allow-list: "https://api.example.com",
// "https://*.example.org:8443", "http://127.0.0.1:9000".
type Rule struct {
	Scheme string // "http" or "https"
	// Host is lower-case; a leading "*." matches any subdomain (not the
	// domain itself). An IP literal is stored without brackets.
	Host string
	Port int // the scheme's default port when the entry names none
	// Addr is set when Host is an IP literal: such a rule also allows
	// dialing that exact address and port even if it is private.
	Addr netip.Addr
}

// String renders the rule in its canonical form.
func (r Rule) String() string {
	h := r.Host
	if r.Addr.Is6() {
		h = "[" + h + "]"
	}
	if r.Port == defaultPort(r.Scheme) {
		return r.Scheme + "://" + h
	}
	return r.Scheme + "://" + h + ":" + strconv.Itoa(r.Port)
}

// AllowList is a function's list of allowed destinations. The zero value
// allows nothing.
type AllowList struct {
	rules []Rule
}

// ErrBadRule reports an allow-list entry that does not parse.
var ErrBadRule = errors.New("invalid allowed host")

// ParseRule parses one allow-list entry.
func ParseRule(s string) (Rule, error) {
	bad := func(why string) (Rule, error) {
		return Rule{}, fmt.Errorf("%w %q: %s", ErrBadRule, s, why)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https") {
		return bad(`it must start with "http://" or "https://"`)
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" || strings.ContainsAny(rest, "/?#@ ") {
		return bad("it must be scheme://host[:port] with no path, query or user")
	}
	host, portStr := rest, ""
	if h, p, err := net.SplitHostPort(rest); err == nil {
		host, portStr = h, p
	} else if strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
		host = rest[1 : len(rest)-1]
	}
	r := Rule{Scheme: scheme, Host: strings.ToLower(host), Port: defaultPort(scheme)}
	if portStr != "" {
		p, err := strconv.Atoi(portStr)
		if err != nil || p < 1 || p > 65535 {
			return bad("the port must be 1..65535")
		}
		r.Port = p
	}
	if a, err := netip.ParseAddr(r.Host); err == nil {
		if a.Zone() != "" {
			return bad("zoned addresses are not allowed")
		}
		r.Addr = a.Unmap()
		r.Host = r.Addr.String()
		return r, nil
	}
	name := strings.TrimPrefix(r.Host, "*.")
	if name == "" || strings.Contains(name, "*") || !validHostname(name) {
		return bad("the host must be a DNS name, *.name or an IP address")
	}
	return r, nil
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

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

func defaultPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}
