package chat_test

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/testutil"
)

// TestChatLoad measures what a 3-node cluster sustains end to end: writers
// post through node 1 (each to a room of its own, so that room sequences
// never race across nodes), and each message is timed from the post's
// acknowledgement until the other user sees it through node 2 (message
// list and unread count). A measurement, not a check: WEDGE_BENCH=1.
func TestChatLoad(t *testing.T) {
	if os.Getenv("WEDGE_BENCH") == "" {
		t.Skip("a measurement: set WEDGE_BENCH=1 to run it")
	}
	nodes := startCluster(t, 3)
	n1, n2 := nodes[0], nodes[1]
	alice := n1.register(t, "alice", "correct horse battery")
	bob := n2.register(t, "bob", "tr0ub4dor&3 is weak")
	const writers, perWriter = 8, 40
	for w := 0; w < writers; w++ {
		room := fmt.Sprintf("load%d", w)
		want(t, n1.call(t, "POST", "/api/rooms", alice, map[string]string{"name": room}), 201, "create")
		testutil.Eventually(t, 10*time.Second, "bob joins "+room, func() bool {
			return n2.call(t, "POST", "/api/rooms/"+room+"/join", bob, nil).status == 200
		})
	}
	for w := 0; w < writers; w++ {
		room := fmt.Sprintf("load%d", w)
		testutil.Eventually(t, 10*time.Second, "bob's membership of "+room+" on node 1", func() bool {
			r := n1.call(t, "GET", "/api/rooms/"+room, alice, nil)
			return r.status == 200 && len(r.body) > 0 && containsStr(string(r.body), `"bob"`)
		})
	}
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			room := fmt.Sprintf("load%d", w)
			for i := 0; i < perWriter; i++ {
				m := n1.post(t, alice, room, fmt.Sprintf("message %d", i))
				posted := time.Now()
				deadline := posted.Add(10 * time.Second)
				for time.Now().Before(deadline) {
					p := n2.messages(t, bob, room, fmt.Sprintf("after=%d&limit=1", m.ID-1))
					if len(p.Messages) == 1 && p.Messages[0].ID == m.ID {
						break
					}
					time.Sleep(2 * time.Millisecond)
				}
				d := time.Since(posted)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	total := writers * perWriter
	testutil.Eventually(t, 20*time.Second, "bob's unread counts", func() bool {
		var sum int64
		for _, n := range n2.unread(t, bob) {
			sum += n
		}
		return sum == int64(total)
	})
	t.Logf("3 nodes, %d writers: %d messages in %v = %.0f messages/s end to end (post acknowledged on node 1 to visible on node 2); delivery p50 %v, p99 %v, max %v; all %d counted unread on node 2 by %v",
		writers, total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(),
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond),
		total, time.Since(start).Round(time.Millisecond))
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
