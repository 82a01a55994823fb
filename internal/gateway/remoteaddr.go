package gateway

import (
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/wedge-run/wedge/abi"
)

// appendRemoteAddr appends the ABI string of addr as addr.String() spells
// it ("192.0.2.1:1234", "[2001:db8::1]:1234"), formatting a TCP address
// straight into dst: String costs three allocations per request (the IP,
// the port and the joined string).
func appendRemoteAddr(dst []byte, addr net.Addr) []byte {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || ta.Zone != "" || ta.Port < 0 || ta.Port > 0xffff {
		return abi.AppendString(dst, addr.String())
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return abi.AppendString(dst, addr.String())
	}
	// net.IP.String prints an IPv4-mapped IPv6 address in dotted form.
	ap := netip.AddrPortFrom(ip.Unmap(), uint16(ta.Port))
	at := len(dst)
	dst = abi.AppendU32(dst, 0)
	dst = ap.AppendTo(dst)
	binary.LittleEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	return dst
}
