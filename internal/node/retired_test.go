package node_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

// TestEventRetriesOnRetiredVersion: an event delivery whose function is
// redeployed while it waits for a slot runs on the new version at its
// first attempt, as an HTTP request does (internal/invoke). The event is
// held in the scheduler's queue, after the lookup of its version, by a
// request that spins in the node's one slot; the redeploy retires that
// version meanwhile. Event delivery had its own invoke path, without the
// retry: the attempt failed with "the function was replaced or removed",
// was logged as a failed delivery and ran again after a backoff.
func TestEventRetriesOnRetiredVersion(t *testing.T) {
	n := oneSlotNode(t)
	trigger := model.Trigger{Kind: "queue", Queue: "jobs", MaxAttempts: 5}
	deployEvents(t, n, "worker", nil, trigger)
	sched := n.Invoke.Scheduler()
	spun := holdTheSlot(t, n)
	if _, err := n.Events.Publish("jobs", []byte("job-1")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the delivery to wait for a slot", func() bool {
		return sched.Stats().Functions["worker"].Queued == 1
	})
	// The new version: the same guest with one more data segment, so a
	// new module (the old one is closed when the deploy releases it).
	v2 := strings.Replace(eventGuestWAT, `(data (i32.const 48) "fixed")`, `(data (i32.const 48) "fixed") (data (i32.const 400) "v2")`, 1)
	if _, _, err := n.Registry.Deploy(context.Background(), registryRequest("worker", testutil.WAT(t, v2), nil, []model.Trigger{trigger})); err != nil {
		t.Fatal(err)
	}
	if st := sched.Stats().Functions["worker"]; st.Queued != 1 || st.InFlight != 0 {
		t.Fatalf("the delivery ran before the redeploy finished: %+v (the spinning request ended early?)", st)
	}
	if st := <-spun; st != http.StatusGatewayTimeout {
		t.Fatalf("spin: status %d, want 504", st)
	}
	testutil.Eventually(t, 10*time.Second, "the delivery", func() bool {
		st := n.Events.Stats()
		return count(n, "worker") >= 1 && st.Pending == 0 && st.Running == 0
	})
	if ev := lastEvent(t, n, "worker"); ev["attempt"].(float64) != 1 {
		t.Errorf("delivered at attempt %v, want 1", ev["attempt"])
	}
	for _, e := range n.Logs.Tail("worker", 0, 100) {
		if strings.Contains(e.Message, "failed") {
			t.Errorf("log: %s", e.Message)
		}
	}
	if _, retired := n.Invoke.Counts(); retired != 1 {
		t.Errorf("%d invocations moved to a new version, want 1", retired)
	}
}

// TestRequestRetriesOnRetiredVersion is the same for an HTTP request:
// it waits for the slot with its version found, the redeploy retires
// that version, and the request is answered by the new one.
func TestRequestRetriesOnRetiredVersion(t *testing.T) {
	n := oneSlotNode(t)
	deploy(t, n, "v", text(t, "v1"), "/v")
	sched := n.Invoke.Scheduler()
	spun := holdTheSlot(t, n)
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get(n.PublicURL() + "/v")
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	testutil.Eventually(t, 5*time.Second, "the request to wait for a slot", func() bool {
		return sched.Stats().Functions["v"].Queued == 1
	})
	deploy(t, n, "v", text(t, "v2"), "/v")
	if st := <-spun; st != http.StatusGatewayTimeout {
		t.Fatalf("spin: status %d, want 504", st)
	}
	if r := <-answer; r != "200 v2" {
		t.Fatalf("the request: %q, want 200 v2", r)
	}
	if _, retired := n.Invoke.Counts(); retired != 1 {
		t.Errorf("%d invocations moved to a new version, want 1", retired)
	}
}

// oneSlotNode admits one invocation at a time and lets others wait long.
func oneSlotNode(t *testing.T) *node.Node {
	n := testutil.StartNode(t, "", fastRetries, func(c *node.Config) { c.MaxConcurrency = 1; c.QueueWait = 20 * time.Second })
	_, _, err := testutil.Client(n).Deploy(ctx, "spin", guest(t, "", `(loop $l (br $l)) (i32.const 0)`),
		client.DeployOptions{Routes: []string{"/spin"}, TimeoutMS: 3000, MemoryMB: 8})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// holdTheSlot starts a request that spins in the node's one slot until
// its 3 s time limit, and returns when it runs; its status comes on the
// channel.
func holdTheSlot(t *testing.T, n *node.Node) <-chan int {
	spun := make(chan int, 1)
	go func() {
		resp, err := http.Get(n.PublicURL() + "/spin")
		if err != nil {
			spun <- 0
			return
		}
		resp.Body.Close()
		spun <- resp.StatusCode
	}()
	testutil.Eventually(t, 5*time.Second, "the spinning request to hold the slot", func() bool {
		return n.Invoke.Scheduler().Stats().Functions["spin"].InFlight == 1
	})
	return spun
}
