package node_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

// eventGuest counts its deliveries in KV key "count" of its own namespace,
// stores the last event envelope under "last", and fails while the count
// is at most len(config FAIL_UNTIL), unless key "fixed" exists.
const eventGuestWAT = `(module
  (import "wedge_v1" "event_get" (func $ev (param i32 i32) (result i32)))
  (import "wedge_v1" "kv_put" (func $put (param i32 i32 i32 i32 i32 i32 i64 i64) (result i64)))
  (import "wedge_v1" "kv_get" (func $get (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wedge_v1" "kv_increment" (func $incr (param i32 i32 i32 i32 i64 i32) (result i32)))
  (import "wedge_v1" "config_get" (func $cfg (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "count")
  (data (i32.const 32) "last")
  (data (i32.const 48) "fixed")
  (data (i32.const 96) "FAIL_UNTIL")
  (func (export "wedge_event") (param $len i32) (result i32)
    (local $n i32) (local $fail i32)
    (drop (call $incr (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 5) (i64.const 1) (i32.const 64)))
    (local.set $n (call $ev (i32.const 1024) (i32.const 60000)))
    (drop (call $put (i32.const 0) (i32.const 0) (i32.const 32) (i32.const 4) (i32.const 1024) (local.get $n) (i64.const 0) (i64.const -1)))
    (if (i32.ge_s (call $get (i32.const 0) (i32.const 0) (i32.const 48) (i32.const 5) (i32.const 200) (i32.const 0) (i32.const 0)) (i32.const 0))
      (then (return (i32.const 0))))
    (local.set $fail (call $cfg (i32.const 96) (i32.const 10) (i32.const 200) (i32.const 0)))
    (if (i64.le_s (i64.load (i32.const 64)) (i64.extend_i32_s (local.get $fail)))
      (then (return (i32.const 1))))
    (i32.const 0)))`

func deployEvents(t *testing.T, n *node.Node, name string, config map[string]string, triggers ...model.Trigger) {
	t.Helper()
	_, _, err := n.Registry.Deploy(context.Background(), registryRequest(name, testutil.WAT(t, eventGuestWAT), config, triggers))
	if err != nil {
		t.Fatal(err)
	}
}

func count(n *node.Node, fn string) int64 {
	e, err := n.KV.Get(fn, "count")
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseInt(string(e.Value), 10, 64)
	return v
}

func lastEvent(t *testing.T, n *node.Node, fn string) map[string]any {
	e, err := n.KV.Get(fn, "last")
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(e.Value, &m); err != nil {
		t.Fatalf("event %q: %v", e.Value, err)
	}
	return m
}

func fastRetries(c *node.Config) { c.RetryBackoff = 20 * time.Millisecond }

func TestKVChangeTrigger(t *testing.T) {
	n := testutil.StartNode(t, "", fastRetries)
	deployEvents(t, n, "watcher", nil, model.Trigger{Kind: "kv", Namespace: "inbox", Prefix: "msg/"})
	cl := testutil.Client(n)
	if _, err := cl.KVPut(ctx, "inbox", "msg/1", []byte("hello"), client.KVPutOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the kv trigger to fire", func() bool {
		return count(n, "watcher") == 1 && lastEvent(t, n, "watcher") != nil
	})
	ev := lastEvent(t, n, "watcher")
	data := ev["data"].(map[string]any)
	if ev["kind"] != "kv" || data["key"] != "msg/1" || data["op"] != "put" || data["namespace"] != "inbox" || data["value"] != "aGVsbG8=" {
		t.Fatalf("event %v", ev)
	}
	// Outside the prefix: nothing fires. A delete fires.
	cl.KVPut(ctx, "inbox", "other/1", []byte("x"), client.KVPutOptions{})
	cl.KVDelete(ctx, "inbox", "msg/1", nil)
	testutil.Eventually(t, 5*time.Second, "the delete to fire", func() bool {
		ev := lastEvent(t, n, "watcher")
		return count(n, "watcher") == 2 && ev["data"].(map[string]any)["op"] == "delete"
	})
	// A matching write puts its event in the work log in its own
	// transaction: once the log is drained, no other delivery can come.
	testutil.Eventually(t, 5*time.Second, "the work log to drain", func() bool {
		st := n.Events.Stats()
		return st.Pending == 0 && st.Running == 0
	})
	if c := count(n, "watcher"); c != 2 {
		t.Fatalf("%d deliveries, want 2", c)
	}
}

func TestUploadTrigger(t *testing.T) {
	n := testutil.StartNode(t, "", fastRetries)
	deployEvents(t, n, "thumb", nil, model.Trigger{Kind: "upload", Bucket: "images"})
	r := testutil.Do(t, "PUT", n.AdminURL()+"/v1/buckets/images/cat.png", strings.NewReader("PNGDATA"),
		map[string]string{"Authorization": "Bearer " + testutil.Token, "Content-Type": "image/png"})
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	testutil.Eventually(t, 5*time.Second, "the upload trigger", func() bool {
		return count(n, "thumb") == 1 && lastEvent(t, n, "thumb") != nil
	})
	d := lastEvent(t, n, "thumb")["data"].(map[string]any)
	if d["bucket"] != "images" || d["object"] != "cat.png" || d["size"].(float64) != 7 || d["content_type"] != "image/png" {
		t.Fatalf("%v", d)
	}
	if r := testutil.Do(t, "GET", n.AdminURL()+"/v1/buckets/images/cat.png", nil, map[string]string{"Authorization": "Bearer " + testutil.Token}); r.Body != "PNGDATA" {
		t.Fatalf("download %q", r.Body)
	}
}

func TestQueueRetriesThenSucceeds(t *testing.T) {
	n := testutil.StartNode(t, "", fastRetries)
	deployEvents(t, n, "worker", map[string]string{"FAIL_UNTIL": "xx"}, model.Trigger{Kind: "queue", Queue: "jobs", MaxAttempts: 5})
	if _, err := n.Events.Publish("jobs", []byte("job-1")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "three attempts", func() bool { return count(n, "worker") == 3 })
	testutil.Eventually(t, 5*time.Second, "the work log to drain", func() bool { return n.Events.Stats().Pending == 0 && n.Events.Stats().Running == 0 })
	ev := lastEvent(t, n, "worker")
	if ev["attempt"].(float64) != 3 {
		t.Fatalf("attempt %v", ev["attempt"])
	}
	msgs := ev["data"].(map[string]any)["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["body"] != "am9iLTE=" {
		t.Fatalf("%v", msgs)
	}
	if dead, _ := n.Events.DeadLetters("jobs", ""); len(dead) != 0 {
		t.Fatalf("dead letters: %+v", dead)
	}
	// The work log drained above: nothing is left to deliver again.
	if c := count(n, "worker"); c != 3 {
		t.Fatalf("%d deliveries after success", c)
	}
}

func TestQueueDeadLetterAndReplay(t *testing.T) {
	n := testutil.StartNode(t, "", fastRetries)
	deployEvents(t, n, "doomed", map[string]string{"FAIL_UNTIL": "always-fails"}, model.Trigger{Kind: "queue", Queue: "jobs", MaxAttempts: 2})
	r := testutil.Do(t, "POST", n.AdminURL()+"/v1/queues/jobs", strings.NewReader("poison"), map[string]string{"Authorization": "Bearer " + testutil.Token})
	if r.Status != 201 {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	testutil.Eventually(t, 10*time.Second, "the message to be dead-lettered", func() bool {
		d, _ := n.Events.DeadLetters("jobs", "")
		return len(d) == 1
	})
	if c := count(n, "doomed"); c != 2 {
		t.Fatalf("%d attempts, want 2", c)
	}
	r = testutil.Do(t, "GET", n.AdminURL()+"/v1/queues/jobs/dead", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	testutil.Contains(t, r.Body, "poison", "handler returned 1")
	// Fix the cause, replay: delivered once more and gone from the list.
	n.KV.Put(context.Background(), "doomed", "fixed", []byte("yes"), kvPutNone)
	r = testutil.Do(t, "POST", n.AdminURL()+"/v1/queues/jobs/dead/replay", nil, map[string]string{"Authorization": "Bearer " + testutil.Token})
	testutil.Contains(t, r.Body, `"replayed": 1`)
	testutil.Eventually(t, 10*time.Second, "the replay to succeed", func() bool { return count(n, "doomed") == 3 && n.Events.Stats().Pending == 0 })
	if d, _ := n.Events.DeadLetters("jobs", ""); len(d) != 0 {
		t.Fatalf("still dead: %+v", d)
	}
}

func TestScheduleEverySecond(t *testing.T) {
	n := testutil.StartNode(t, "", fastRetries)
	deployEvents(t, n, "ticker", nil, model.Trigger{Kind: "schedule", Cron: "* * * * * *"})
	testutil.Eventually(t, 6*time.Second, "two ticks", func() bool { return count(n, "ticker") >= 2 })
	d := lastEvent(t, n, "ticker")["data"].(map[string]any)
	if d["cron"] != "* * * * * *" || d["timezone"] != "UTC" {
		t.Fatalf("%v", d)
	}
	sched, err := time.Parse(time.RFC3339, d["scheduled"].(string))
	if err != nil || sched.Nanosecond() != 0 || time.Since(sched) > 5*time.Second {
		t.Fatalf("scheduled %v %v", d["scheduled"], err)
	}
}

func TestEventsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	n := testutil.StartNode(t, dir, fastRetries)
	deployEvents(t, n, "later", map[string]string{"FAIL_UNTIL": "always-fails"}, model.Trigger{Kind: "queue", Queue: "q", MaxAttempts: 100})
	for i := 0; i < 5; i++ {
		n.Events.Publish("q", binary.BigEndian.AppendUint32(nil, uint32(i)))
	}
	testutil.Eventually(t, 5*time.Second, "first attempts", func() bool { return count(n, "later") >= 5 })
	n.Close()
	// After the restart the pending messages are delivered again; now they succeed.
	n2 := testutil.StartNode(t, dir, fastRetries)
	n2.KV.Put(context.Background(), "later", "fixed", []byte("1"), kvPutNone)
	testutil.Eventually(t, 10*time.Second, "the pending work to drain", func() bool {
		st := n2.Events.Stats()
		return st.Pending == 0 && st.Running == 0 && st.Delivered >= 5
	})
}
