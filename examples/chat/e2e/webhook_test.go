package chat_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/testutil"
)

// TestChatWebhookOnCluster: a room's creator sets a webhook; messages
// posted through the three nodes of a cluster reach a local receiver,
// each exactly once by its Idempotency-Key, though every third message's
// first delivery fails and is retried by the event machinery.
func TestChatWebhookOnCluster(t *testing.T) {
	type delivery struct {
		attempts int
		taken    int
		body     string
	}
	var mu sync.Mutex
	got := map[string]*delivery{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		body, _ := io.ReadAll(r.Body)
		if key == "" || r.Method != "POST" {
			http.Error(w, "no idempotency key", 400)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		d := got[key]
		if d == nil {
			d = &delivery{}
			got[key] = d
		}
		d.attempts++
		var id int64
		fmt.Sscanf(key[strings.LastIndexByte(key, '/')+1:], "%d", &id)
		if id%3 == 0 && d.attempts == 1 {
			http.Error(w, "try again", 503)
			return
		}
		if d.taken == 0 { // a repeat of a key already taken is acknowledged and dropped
			d.taken, d.body = 1, string(body)
		}
	}))
	defer recv.Close()
	notifyAllowedHosts = []string{recv.URL}
	t.Cleanup(func() { notifyAllowedHosts = nil })

	nodes := startCluster(t, 3)
	alice := nodes[0].register(t, "alice", "correct horse battery")
	var r reply
	testutil.Eventually(t, 10*time.Second, "alice's session on the room's node", func() bool {
		r = nodes[0].call(t, "PUT", "/api/rooms/hooks", alice, nil)
		return r.status != 401
	})
	want(t, r, 201, "create room")
	want(t, nodes[1].call(t, "PUT", "/api/rooms/hooks/webhook", alice, map[string]string{"url": recv.URL + "/hook"}), 200, "set the webhook")
	want(t, nodes[2].call(t, "PUT", "/api/rooms/hooks/webhook", alice, map[string]string{"url": "ftp://x"}), 400, "a bad webhook")
	bob := nodes[1].register(t, "bob", "tr0ub4dor&3 is weak")
	testutil.Eventually(t, 10*time.Second, "bob joins", func() bool {
		return nodes[1].call(t, "POST", "/api/rooms/hooks/join", bob, nil).status == 200
	})
	want(t, nodes[1].call(t, "PUT", "/api/rooms/hooks/webhook", bob, map[string]string{"url": recv.URL}), 403, "bob sets the webhook")

	// A kv trigger fires on the node that takes the write, for the
	// triggers it knows then: a message posted on a node that has not
	// installed notify yet gets no delivery (left open, see the closing
	// note of this change). Post once every node serves every function.
	for _, a := range nodes {
		testutil.Eventually(t, 180*time.Second, "every chat function on "+a.n.Config.NodeName, func() bool {
			for _, fn := range []string{"auth", "messages", "notify", "web"} {
				if _, ok := a.n.Registry.Get(fn); !ok {
					return false
				}
			}
			return true
		})
	}
	const count = 9
	posted := map[string]string{}
	for i := 0; i < count; i++ {
		text := fmt.Sprintf("message %d", i)
		m := nodes[i%3].post(t, alice, "hooks", text)
		posted[fmt.Sprintf("hooks/%d", m.ID)] = text
	}
	testutil.Eventually(t, 60*time.Second, "every message at the receiver", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, d := range got {
			n += d.taken
		}
		return n == count
	})
	mu.Lock()
	defer mu.Unlock()
	if len(got) != count {
		t.Fatalf("the receiver saw %d keys for %d messages", len(got), count)
	}
	retried := 0
	for key, text := range posted {
		d := got[key]
		if d == nil || d.taken != 1 {
			t.Fatalf("message %s: %+v", key, d)
		}
		var m struct{ Text, User string }
		if err := json.Unmarshal([]byte(d.body), &m); err != nil || m.Text != text || m.User != "alice" {
			t.Fatalf("message %s arrived as %q", key, d.body)
		}
		if d.attempts > 1 {
			retried++
		}
	}
	if retried < count/3 {
		t.Fatalf("only %d messages were retried; every third first delivery failed", retried)
	}
}
