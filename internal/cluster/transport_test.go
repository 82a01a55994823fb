package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/kv"
)

// TestTrafficIsCounted checks the metered transport: joining moves TCP
// (push/pull) and UDP (probes) both ways; a KV write shows up as sent
// gossip on the writer and received gossip on the others; an announced
// large value is pulled over peer HTTP.
func TestTrafficIsCounted(t *testing.T) {
	nodes := startCluster(t, 3)
	eventually(t, 5*time.Second, "probes and push/pull counted on every node", func() bool {
		for _, n := range nodes {
			tr := n.c.Traffic()
			if tr.UDPSent == 0 || tr.UDPReceived == 0 || tr.TCPSent+tr.TCPReceived == 0 {
				return false
			}
		}
		return true
	})
	before := make([]Traffic, len(nodes))
	for i, n := range nodes {
		before[i] = n.c.Traffic()
	}
	var small [20]kv.Change
	for i := range small {
		small[i] = nodes[0].kv.put("ns", fmt.Sprintf("k%d", i), make([]byte, 600))
	}
	big := nodes[0].kv.put("ns", "big", make([]byte, 64<<10))
	eventually(t, 5*time.Second, "the writes on every node", func() bool {
		for _, n := range nodes[1:] {
			for _, ch := range append(small[:], big) {
				if !n.kv.has(ch) {
					return false
				}
			}
		}
		return true
	})
	sent := nodes[0].c.Traffic().UDPSent - before[0].UDPSent
	if sent < 20*600 {
		t.Errorf("writer sent %d UDP bytes for 20 writes of 600 bytes", sent)
	}
	for i, n := range nodes[1:] {
		// 20 writes of 600 bytes reach each reader inline, by gossip.
		if got := n.c.Traffic().UDPReceived - before[i+1].UDPReceived; got < 20*600 {
			t.Errorf("%s received %d UDP bytes during 20 writes of 600 bytes", n.name, got)
		}
	}
	var pulled uint64
	for i, n := range nodes[1:] {
		pulled += n.c.Traffic().PeerHTTP - before[i+1].PeerHTTP
	}
	if pulled < 64<<10 {
		t.Errorf("the 64 KiB value was pulled with %d peer HTTP bytes in all", pulled)
	}
}
