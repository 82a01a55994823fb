package chat_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/node"
)

// startCluster starts n nodes joined by gossip, deploys the chat app on
// the first, and waits until every node serves it.
func startCluster(t *testing.T, count int) []*chatApp {
	t.Helper()
	var nodes []*node.Node
	for i := 0; i < count; i++ {
		n := testutil.StartNode(t, "", func(c *node.Config) {
			c.RetryBackoff = 50 * time.Millisecond
			c.GossipAddr = "127.0.0.1:0"
			c.ClusterPreset = "local"
			if i > 0 {
				c.Join = []string{nodes[0].Cluster.Addr()}
			}
		})
		nodes = append(nodes, n)
	}
	apps := []*chatApp{deployChat(t, nodes[0])}
	for _, n := range nodes[1:] {
		a := &chatApp{n: n, url: n.PublicURL()}
		testutil.Eventually(t, 180*time.Second, "the chat app on "+n.Config.NodeName, func() bool {
			resp, err := http.Get(a.url + "/api/auth/me")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 401 // the auth function answers
		})
		apps = append(apps, a)
	}
	return apps
}

// TestChatOnCluster: two users on different nodes of a 3-node cluster
// register, share a room, exchange messages and see each other's
// messages and unread counts.
func TestChatOnCluster(t *testing.T) {
	nodes := startCluster(t, 3)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	alice := n1.register(t, "alice", "correct horse battery")
	bob := n2.register(t, "bob", "tr0ub4dor&3 is weak")
	// The room's node creates it (affinity): alice's session, taken on
	// node 1, may not be there yet; the UI retries a 401 too.
	var created reply
	testutil.Eventually(t, 10*time.Second, "alice's session on the room's node", func() bool {
		created = n1.call(t, "PUT", "/api/rooms/lobby", alice, nil)
		return created.status != 401
	})
	want(t, created, 201, "create room")
	testutil.Eventually(t, 10*time.Second, "bob can join through another node", func() bool {
		return n2.call(t, "POST", "/api/rooms/lobby/join", bob, nil).status == 200
	})
	// The notify function runs where a message is posted, and fans out to
	// the members it sees there: wait until bob's membership reached node 1.
	testutil.Eventually(t, 10*time.Second, "bob's membership on node 1", func() bool {
		r := n1.call(t, "GET", "/api/rooms/lobby", alice, nil)
		return r.status == 200 && strings.Contains(string(r.body), `"bob"`)
	})
	n1.post(t, alice, "lobby", "hello from node 1")
	testutil.Eventually(t, 10*time.Second, "bob reads alice's message on node 2", func() bool {
		p := n2.messagesSoon(t, bob, "lobby", "")
		return len(p.Messages) == 1 && p.Messages[0].Text == "hello from node 1"
	})
	testutil.Eventually(t, 10*time.Second, "bob's unread count on node 3", func() bool {
		return n3.unreadSoon(t, bob)["lobby"] == 1
	})
	// Likewise alice's membership on node 2, where bob posts.
	testutil.Eventually(t, 10*time.Second, "alice's membership on node 2", func() bool {
		r := n2.call(t, "GET", "/api/rooms/lobby", bob, nil)
		return r.status == 200 && strings.Contains(string(r.body), `"alice"`)
	})
	n2.post(t, bob, "lobby", "and hello from node 2")
	testutil.Eventually(t, 10*time.Second, "alice reads both on node 3", func() bool {
		p := n3.messagesSoon(t, alice, "lobby", "")
		return len(p.Messages) == 2 && p.Messages[1].Text == "and hello from node 2" && p.Messages[1].User == "bob"
	})
	testutil.Eventually(t, 10*time.Second, "alice's unread count on node 1", func() bool {
		return n1.unreadSoon(t, alice)["lobby"] == 1
	})

	// Both post to the room at once, through different nodes. The room's
	// affinity sends every post to the node that owns the room, so ids
	// are never handed out twice, nothing is lost, and every unread
	// count is exact.
	const each = 15
	var wg sync.WaitGroup
	var failures atomic.Int64
	for _, p := range []struct {
		app   *chatApp
		token string
		who   string
	}{{n1, alice, "alice"}, {n2, bob, "bob"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := p.app.call(t, "POST", "/api/rooms/lobby/messages", p.token, map[string]string{"text": fmt.Sprintf("%s %d", p.who, i)})
				if r.status != 201 {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d concurrent posts failed", failures.Load())
	}
	var got []int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := n3.messagesSoon(t, alice, "lobby", "limit=100")
		if got = ids(p.Messages); slices.Equal(got, span(1, 2+2*each)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages on node 3 after 10 s: ids %v, want 1 to %d", got, 2+2*each)
		}
		time.Sleep(10 * time.Millisecond)
	}
	testutil.Eventually(t, 10*time.Second, "exact unread counts on every node", func() bool {
		for _, n := range nodes {
			if n.unreadSoon(t, alice)["lobby"] != 1+each || n.unreadSoon(t, bob)["lobby"] != 1+each {
				return false
			}
		}
		return true
	})
}
