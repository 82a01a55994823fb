package model

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// HostRule is one entry of a function's allowed_hosts: "https://api.example.com",
// "https://*.example.org:8443", "http://127.0.0.1:9000".
type HostRule struct {
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
func (r HostRule) String() string {
	h := r.Host
	if r.Addr.Is6() {
		h = "[" + h + "]"
	}
	if r.Port == DefaultPort(r.Scheme) {
		return r.Scheme + "://" + h
	}
	return r.Scheme + "://" + h + ":" + strconv.Itoa(r.Port)
}

// ErrInvalidHost reports an allowed_hosts entry that does not parse.
var ErrInvalidHost = errors.New("invalid allowed host")

// ParseHostRule parses one allowed_hosts entry.
func ParseHostRule(s string) (HostRule, error) {
	bad := func(why string) (HostRule, error) {
		return HostRule{}, fmt.Errorf("%w %q: %s", ErrInvalidHost, s, why)
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
	r := HostRule{Scheme: scheme, Host: strings.ToLower(host), Port: DefaultPort(scheme)}
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

// DefaultPort is the port of a scheme ("https": 443, else 80).
func DefaultPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}
