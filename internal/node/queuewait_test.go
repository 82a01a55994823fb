package node_test

import (
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestClosedLoop64ConnectionsSeeNo503: 64 clients, each sending its next
// request as soon as the last is answered, against a function that
// answers in microseconds. The node can serve the whole queue well within
// its wait, so it must not shed: every answer is 200. The queue used to be
// bounded by a count (twice the limit, half of it per function), so 64
// connections on a 16-slot node got 503s however fast the function was.
// The wait is longer than the default so that a machine busy with other
// work does not make the node shed for being slow.
func TestClosedLoop64ConnectionsSeeNo503(t *testing.T) {
	n := testutil.StartNode(t, "", func(c *node.Config) { c.MaxConcurrency = 16; c.QueueWait = 500 * time.Millisecond })
	deploy(t, n, "hello", text(t, "hello"), "/hello")
	rs := hammer(n.PublicURL()+"/hello", 64, 64*40)
	counts := map[int]int{}
	for _, r := range rs {
		if r.err != nil {
			t.Fatalf("request failed: %v", r.err)
		}
		counts[r.status]++
	}
	st := n.Invoke.Scheduler().Stats()
	t.Logf("answers %v; limit %d, most in flight %d, p99 %v", counts, st.Limit, st.MaxSeen, p99(rs))
	if counts[200] != len(rs) {
		t.Fatalf("a closed loop of 64 connections against a fast function got %v, want only 200", counts)
	}
}
