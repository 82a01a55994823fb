//go:build linux

package netns_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/testutil/netns"
)

// TestLinkDownPartitions checks the building blocks: two hosts on
// bridges joined by a link reach each other over 127.x addresses until
// the link is cut, and again once it is restored.
func TestLinkDownPartitions(t *testing.T) {
	nw := netns.New(t)
	nw.Bridge("br0")
	nw.Bridge("br1")
	link := nw.Link("lk", "br0", "br1")
	a := nw.Host("a", "br0", "127.21.0.1/24")
	b := nw.Host("b", "br1", "127.21.0.2/24")

	var ln net.Listener
	if err := b.Do(func() (err error) { ln, err = net.Listen("tcp", b.Addr(9000)); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello"))
			c.Close()
		}
	}()
	dial := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		c, err := a.DialContext(ctx, "tcp", b.Addr(9000))
		if err != nil {
			return err
		}
		defer c.Close()
		got, err := io.ReadAll(c)
		if err == nil && string(got) != "hello" {
			t.Fatalf("read %q", got)
		}
		return err
	}
	if err := dial(5 * time.Second); err != nil {
		t.Fatalf("before the cut: %v", err)
	}
	// The listener is in b's namespace only.
	if c, err := net.DialTimeout("tcp", b.Addr(9000), time.Second); err == nil {
		c.Close()
		t.Fatal("reached b's listener from the test's own namespace")
	}
	link.Down()
	if err := dial(300 * time.Millisecond); err == nil {
		t.Fatal("connected across a cut link")
	}
	link.Up()
	if err := dial(5 * time.Second); err != nil {
		t.Fatalf("after the link is restored: %v", err)
	}
}

// TestMoveSplitsAndJoins moves a host between bridges that are not
// linked: it reaches the hosts of the bridge it is on, not the others,
// and everything again once it is back.
func TestMoveSplitsAndJoins(t *testing.T) {
	nw := netns.New(t)
	nw.Bridge("br0")
	nw.Bridge("br1")
	a := nw.Host("a", "br0", "127.22.0.1/24")
	b := nw.Host("b", "br0", "127.22.0.2/24")
	c := nw.Host("c", "br0", "127.22.0.3/24")
	for _, h := range []*netns.Host{b, c} {
		var ln net.Listener
		if err := h.Do(func() (err error) { ln, err = net.Listen("tcp", h.Addr(9000)); return err }); err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				conn.Close()
			}
		}()
	}
	reaches := func(from, to *netns.Host, timeout time.Duration) bool {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, err := from.DialContext(ctx, "tcp", to.Addr(9000))
		if err == nil {
			conn.Close()
		}
		return err == nil
	}
	if !reaches(a, b, 5*time.Second) || !reaches(a, c, 5*time.Second) {
		t.Fatal("a does not reach b and c on one bridge")
	}
	nw.Move(c, "br1")
	if reaches(a, c, 300*time.Millisecond) {
		t.Fatal("a reached c on another bridge")
	}
	if !reaches(a, b, 5*time.Second) {
		t.Fatal("a no longer reaches b, which did not move")
	}
	nw.Move(a, "br1")
	if !reaches(a, c, 5*time.Second) || reaches(a, b, 300*time.Millisecond) {
		t.Fatal("after moving a next to c: a must reach c and not b")
	}
	nw.Move(a, "br0")
	nw.Move(c, "br0")
	if !reaches(a, b, 5*time.Second) || !reaches(a, c, 5*time.Second) {
		t.Fatal("a does not reach b and c once all are back on one bridge")
	}
}
