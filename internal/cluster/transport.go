package cluster

import (
	"fmt"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Traffic counts the bytes this node's gossip moved on the wire, after
// encryption: memberlist's UDP packets and TCP streams (push/pull, large
// messages), and the node-to-node HTTP requests this node made (blob
// fetches, KV pulls, repairs), both directions. IP and UDP/TCP headers
// are not included.
type Traffic struct {
	UDPSent, UDPReceived   uint64
	TCPSent, TCPReceived   uint64
	PeerHTTPSent, PeerHTTP uint64 // PeerHTTP: bytes received
}

// GossipBytes is memberlist's traffic, both directions.
func (t Traffic) GossipBytes() uint64 {
	return t.UDPSent + t.UDPReceived + t.TCPSent + t.TCPReceived
}

type trafficCounters struct {
	udpOut, udpIn, tcpOut, tcpIn, httpOut, httpIn atomic.Uint64
}

func (c *trafficCounters) snapshot() Traffic {
	return Traffic{
		UDPSent: c.udpOut.Load(), UDPReceived: c.udpIn.Load(),
		TCPSent: c.tcpOut.Load(), TCPReceived: c.tcpIn.Load(),
		PeerHTTPSent: c.httpOut.Load(), PeerHTTP: c.httpIn.Load(),
	}
}

// meteredTransport is memberlist's own NetTransport with every packet and
// stream counted. memberlist has no byte counters of its own (only
// go-metrics samples, which this project does not wire up).
type meteredTransport struct {
	*memberlist.NetTransport
	n       *trafficCounters
	packets chan *memberlist.Packet
	streams chan net.Conn
	stop    chan struct{}
	once    sync.Once
}

var _ memberlist.NodeAwareTransport = (*meteredTransport)(nil)

// newMeteredTransport binds memberlist's NetTransport as memberlist
// would (retrying a random port that is free for TCP but not UDP) and
// updates mc's bind and advertise port when it was 0.
func newMeteredTransport(mc *memberlist.Config, logger *log.Logger, n *trafficCounters) (*meteredTransport, error) {
	nc := &memberlist.NetTransportConfig{BindAddrs: []string{mc.BindAddr}, BindPort: mc.BindPort, Logger: logger}
	tries := 1
	if mc.BindPort == 0 {
		tries = 10
	}
	var nt *memberlist.NetTransport
	var err error
	for range tries {
		if nt, err = memberlist.NewNetTransport(nc); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("binding %s:%d: %w", mc.BindAddr, mc.BindPort, err)
	}
	if mc.BindPort == 0 {
		mc.BindPort = nt.GetAutoBindPort()
		mc.AdvertisePort = mc.BindPort
	}
	t := &meteredTransport{
		NetTransport: nt, n: n,
		packets: make(chan *memberlist.Packet),
		streams: make(chan net.Conn),
		stop:    make(chan struct{}),
	}
	go t.relayPackets()
	go t.relayStreams()
	return t, nil
}

func (t *meteredTransport) relayPackets() {
	in := t.NetTransport.PacketCh()
	for {
		select {
		case p := <-in:
			t.n.udpIn.Add(uint64(len(p.Buf)))
			select {
			case t.packets <- p:
			case <-t.stop:
				return
			}
		case <-t.stop:
			return
		}
	}
}

func (t *meteredTransport) relayStreams() {
	in := t.NetTransport.StreamCh()
	for {
		select {
		case c := <-in:
			select {
			case t.streams <- &countingConn{Conn: c, in: &t.n.tcpIn, out: &t.n.tcpOut}:
			case <-t.stop:
				c.Close()
				return
			}
		case <-t.stop:
			return
		}
	}
}

func (t *meteredTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }
func (t *meteredTransport) StreamCh() <-chan net.Conn           { return t.streams }

func (t *meteredTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	at, err := t.NetTransport.WriteTo(b, addr)
	if err == nil {
		t.n.udpOut.Add(uint64(len(b)))
	}
	return at, err
}

func (t *meteredTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	at, err := t.NetTransport.WriteToAddress(b, a)
	if err == nil {
		t.n.udpOut.Add(uint64(len(b)))
	}
	return at, err
}

func (t *meteredTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := t.NetTransport.DialTimeout(addr, timeout)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, in: &t.n.tcpIn, out: &t.n.tcpOut}, nil
}

func (t *meteredTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	c, err := t.NetTransport.DialAddressTimeout(a, timeout)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, in: &t.n.tcpIn, out: &t.n.tcpOut}, nil
}

func (t *meteredTransport) Shutdown() error {
	err := t.NetTransport.Shutdown()
	t.once.Do(func() { close(t.stop) })
	return err
}

// countingConn adds the bytes read and written to two counters.
type countingConn struct {
	net.Conn
	in, out *atomic.Uint64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.in.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.out.Add(uint64(n))
	return n, err
}

// Traffic returns the bytes moved since New.
func (c *Cluster) Traffic() Traffic { return c.traffic.snapshot() }
