package gateway

import (
	"net"
	"testing"

	"github.com/wedge-run/wedge/abi"
)

// TestAppendRemoteAddrMatchesString: the guest sees the remote address
// exactly as net.Addr.String spells it, whatever the address family.
func TestAppendRemoteAddrMatchesString(t *testing.T) {
	addrs := []net.Addr{
		&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1},
		&net.TCPAddr{IP: net.IP{192, 0, 2, 7}, Port: 65535},
		&net.TCPAddr{IP: net.ParseIP("::1"), Port: 8080},
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443},
		&net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 9},
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 80, Zone: "eth0"},
		&net.TCPAddr{IP: nil, Port: 80},
		&net.TCPAddr{IP: net.IP{1, 2, 3}, Port: 80},
		&net.UnixAddr{Name: "/tmp/sock", Net: "unix"},
	}
	for _, a := range addrs {
		got := appendRemoteAddr([]byte("x"), a)
		want := abi.AppendString([]byte("x"), a.String())
		if string(got) != string(want) {
			t.Errorf("%#v: %q, want %q", a, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { appendRemoteAddr(make([]byte, 0, 64), addrs[0]) }); n > 1 {
		t.Errorf("%v allocations per TCP address, want at most the buffer's", n)
	}
}

// TestRequestIDsOneAllocation: a request id is the node prefix and a
// base-36 counter, built with one allocation.
func TestRequestIDsOneAllocation(t *testing.T) {
	ids := &requestIDs{prefix: "abcdefgh-"}
	if a, b := ids.next(), ids.next(); a != "abcdefgh-1" || b != "abcdefgh-2" {
		t.Fatalf("ids %q, %q", a, b)
	}
	if n := testing.AllocsPerRun(100, func() { _ = ids.next() }); n != 1 {
		t.Errorf("%v allocations per id, want 1", n)
	}
}
