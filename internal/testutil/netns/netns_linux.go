//go:build linux

package netns

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// RequireEnv is the environment variable that, set to "1", turns a
// missing capability into a test failure instead of a skip.
const RequireEnv = "WEDGE_REQUIRE_NETNS"

// Require skips t unless this process can create network namespaces
// (root, with the ip command), or fails it when RequireEnv is "1".
func Require(t testing.TB) {
	t.Helper()
	probeOnce.Do(func() { probeErr = probe() })
	if probeErr == nil {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("network namespaces are required (%s=1) but unavailable: %v", RequireEnv, probeErr)
	}
	t.Skipf("network namespaces unavailable: %v (set %s=1 to fail instead)", probeErr, RequireEnv)
}

var (
	probeOnce sync.Once
	probeErr  error
)

func probe() error {
	if os.Geteuid() != 0 {
		return errors.New("not running as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("the ip command (iproute2) is not installed")
	}
	name := fmt.Sprintf("wedge-probe-%d-%04x", os.Getpid(), rand.IntN(1<<16))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add: %v: %s", err, strings.TrimSpace(string(out)))
	}
	exec.Command("ip", "netns", "del", name).Run()
	return nil
}

// Network is a set of namespaces with a common unique name prefix: the
// hub, holding bridges and links, and the hosts. They are deleted when
// the test ends (deleting a namespace destroys its interfaces).
type Network struct {
	t      testing.TB
	prefix string
	hub    string
}

// New creates an empty network (a hub namespace), or skips t as
// Require does.
func New(t testing.TB) *Network {
	t.Helper()
	Require(t)
	sweepOnce.Do(sweepStale)
	n := &Network{t: t, prefix: fmt.Sprintf("wedge-%d-%04x", os.Getpid(), rand.IntN(1<<16))}
	n.hub = n.addNamespace("hub")
	return n
}

var sweepOnce sync.Once

// sweepStale deletes the namespaces of test processes that are gone (a
// test killed before its cleanup ran): names "wedge-PID-..." whose PID
// does not exist.
func sweepStale() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "wedge-%d-", &pid); err != nil || pid <= 0 {
			if _, err := fmt.Sscanf(e.Name(), "wedge-probe-%d-", &pid); err != nil || pid <= 0 {
				continue
			}
		}
		if unix.Kill(pid, 0) == unix.ESRCH {
			exec.Command("ip", "netns", "del", e.Name()).Run()
		}
	}
}

// addNamespace creates the namespace prefix-name, deleted at cleanup.
func (n *Network) addNamespace(name string) string {
	n.t.Helper()
	ns := n.prefix + "-" + name
	n.ip("netns", "add", ns)
	n.t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			n.t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	n.ip("-n", ns, "link", "set", "lo", "up")
	return ns
}

// ip runs the ip command and fails the test if it fails.
func (n *Network) ip(args ...string) {
	n.t.Helper()
	run(n.t, "ip", args...)
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
}

// checkIfName fails the test unless name fits an interface name.
func (n *Network) checkIfName(name string) {
	n.t.Helper()
	if len(name) == 0 || len(name) > unix.IFNAMSIZ-1 {
		n.t.Fatalf("netns: interface name %q: 1 to %d bytes", name, unix.IFNAMSIZ-1)
	}
}

// Bridge creates a bridge (a switch) named name in the hub.
func (n *Network) Bridge(name string) {
	n.t.Helper()
	n.checkIfName(name)
	n.ip("-n", n.hub, "link", "add", name, "type", "bridge")
	n.ip("-n", n.hub, "link", "set", name, "up")
}

// Link joins two bridges of the hub with a veth pair named name (on
// bridge a's side) and name+"p" (on bridge b's side). It starts up.
func (n *Network) Link(name, a, b string) *Link {
	n.t.Helper()
	n.checkIfName(name + "p")
	n.ip("-n", n.hub, "link", "add", name, "type", "veth", "peer", "name", name+"p")
	n.ip("-n", n.hub, "link", "set", name, "master", a)
	n.ip("-n", n.hub, "link", "set", name+"p", "master", b)
	l := &Link{n: n, name: name}
	l.set("up")
	n.ip("-n", n.hub, "link", "set", name+"p", "up")
	return l
}

// Link is a cable between two bridges.
type Link struct {
	n    *Network
	name string
}

// Down cuts the link: nothing crosses it until Up.
func (l *Link) Down() { l.n.t.Helper(); l.set("down") }

// Up restores the link.
func (l *Link) Up() { l.n.t.Helper(); l.set("up") }

func (l *Link) set(state string) {
	l.n.t.Helper()
	l.n.ip("-n", l.n.hub, "link", "set", l.name, state)
}

// Host creates a namespace with one interface, eth0, plugged into
// bridge with address cidr ("127.20.0.1/24"). The hub side of the veth
// pair is "h-"+name, so name is at most 13 bytes.
func (n *Network) Host(name, bridge, cidr string) *Host {
	n.t.Helper()
	ip, _, err := net.ParseCIDR(cidr)
	if err != nil {
		n.t.Fatalf("netns: host %s: %v", name, err)
	}
	if !ip.IsLoopback() {
		n.t.Fatalf("netns: host %s: %s is not in 127.0.0.0/8", name, cidr)
	}
	hubSide := "h-" + name
	n.checkIfName(hubSide)
	ns := n.addNamespace(name)
	n.ip("-n", n.hub, "link", "add", hubSide, "type", "veth", "peer", "name", "eth0", "netns", ns)
	n.ip("-n", n.hub, "link", "set", hubSide, "master", bridge)
	n.ip("-n", n.hub, "link", "set", hubSide, "up")
	// 127.x addresses are martian on a non-loopback interface unless
	// route_localnet is set, and the local 127.0.0.0/8 route would
	// claim them all for lo.
	for _, kv := range []string{
		"net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.eth0.route_localnet=1",
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0",
	} {
		run(n.t, "ip", "netns", "exec", ns, "sysctl", "-qw", kv)
	}
	n.ip("-n", ns, "route", "del", "local", "127.0.0.0/8", "dev", "lo", "table", "local")
	n.ip("-n", ns, "addr", "add", cidr, "dev", "eth0")
	n.ip("-n", ns, "link", "set", "eth0", "up")
	return &Host{Name: ns, IP: ip.String(), hubSide: hubSide}
}

// Move plugs h's cable into bridge instead of the bridge it is in: h
// then reaches the hosts on bridge (and on bridges linked to it) only.
// Packets on the way to the hosts it left are dropped, as on a cut
// cable. A test partitions hosts into groups by giving each group its
// own bridge, and heals the partition by moving them all back to one.
func (n *Network) Move(h *Host, bridge string) {
	n.t.Helper()
	n.ip("-n", n.hub, "link", "set", h.hubSide, "master", bridge)
}

// Host is a namespace attached to the network.
type Host struct {
	Name string // the namespace's name (ip netns)
	IP   string // the address of its interface

	hubSide string // its veth's end in the hub
}

// Addr returns "IP:port".
func (h *Host) Addr(port int) string { return net.JoinHostPort(h.IP, fmt.Sprint(port)) }

// Command returns a command that runs name with args in the namespace.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.Name, name}, args...)...)
}

// Do runs f on an OS thread that has entered the namespace. Sockets f
// creates belong to the namespace for their whole life, whichever
// thread uses them later.
func (h *Host) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: opening the current namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/run/netns/"+h.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: opening %s: %w", h.Name, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: entering %s: %w", h.Name, err)
			return
		}
		ferr := f()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Still locked: the thread exits with this goroutine
			// rather than run others in the wrong namespace.
			errc <- fmt.Errorf("netns: leaving %s: %w", h.Name, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// DialContext connects from inside the namespace, as net.Dialer does.
func (h *Host) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var c net.Conn
	err := h.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	if err != nil && c != nil {
		c.Close()
		c = nil
	}
	return c, err
}

// HTTPClient returns a client whose connections are made from inside
// the namespace, with the given overall request timeout.
func (h *Host) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext:         h.DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}}
}
