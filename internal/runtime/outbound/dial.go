package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// ErrBlockedAddr reports a destination refused after DNS resolution: a
// private, loopback, link-local or unspecified address the allow-list
// does not name, or the node's own admin port.
var ErrBlockedAddr = errors.New("destination address refused")

// Resolver resolves a host name to addresses; Config.Resolver replaces
// the system resolver in tests.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

func systemResolver(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// special reports addresses a guest may reach only when its list names
// them: loopback, private (RFC 1918, fc00::/7), link-local (169.254/16,
// fe80::/10, which includes cloud metadata services), unspecified, and
// multicast.
func special(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() ||
		cgnat.Contains(a)
}

// cgnat is the shared address space (RFC 6598), private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// dialer dials for one set of address rules.
type dialer struct {
	c     *Client
	allow AllowList // only its address rules matter here
	net   net.Dialer
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := net.LookupPort("tcp", portStr)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	literal := false
	if a, perr := netip.ParseAddr(host); perr == nil {
		addrs, literal = []netip.Addr{a}, true
	} else {
		addrs, err = d.c.resolve(ctx, host)
		if err != nil {
			return nil, err
		}
	}
	var firstErr error
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a.Unmap(), uint16(port))
		if err := d.c.checkAddr(d.allow, ap); err != nil {
			if firstErr == nil && literal {
				firstErr = fmt.Errorf("%w: %s", err, ap)
			} else if firstErr == nil {
				firstErr = fmt.Errorf("%w: %s resolves to %s", err, host, ap)
			}
			continue
		}
		conn, err := d.net.DialContext(ctx, "tcp", ap.String())
		if err == nil {
			return conn, nil
		}
		if firstErr == nil || errors.Is(firstErr, ErrBlockedAddr) {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("no address for %s", host)
	}
	return nil, firstErr
}

// checkAddr applies the SSRF rules to one resolved address.
func (c *Client) checkAddr(allow AllowList, ap netip.AddrPort) error {
	if c.isAdmin(ap) {
		return ErrBlockedAddr
	}
	if special(ap.Addr()) && !allow.allowsAddr(ap) {
		return ErrBlockedAddr
	}
	return nil
}

// isAdmin reports whether ap reaches one of the node's own protected
// listeners (the admin API). A listener on an unspecified address is
// reachable at every local address, so any non-public address with that
// port counts.
func (c *Client) isAdmin(ap netip.AddrPort) bool {
	c.mu.Lock()
	protected := c.protected
	c.mu.Unlock()
	for _, p := range protected {
		if p.Port() != ap.Port() {
			continue
		}
		if p.Addr().Unmap() == ap.Addr().Unmap() || p.Addr().IsUnspecified() || special(ap.Addr()) || c.local(ap.Addr()) {
			return true
		}
	}
	return false
}

// local reports whether a is an address of this machine.
func (c *Client) local(a netip.Addr) bool {
	c.localOnce.Do(func() {
		addrs, _ := net.InterfaceAddrs()
		for _, x := range addrs {
			if p, err := netip.ParsePrefix(x.String()); err == nil {
				c.localAddrs = append(c.localAddrs, p.Addr().Unmap())
			}
		}
	})
	for _, x := range c.localAddrs {
		if x == a.Unmap() {
			return true
		}
	}
	return false
}

func (c *Client) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	r := c.cfg.Resolver
	if r == nil {
		r = systemResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return r(ctx, host)
}
