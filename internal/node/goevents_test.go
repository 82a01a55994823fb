package node_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

func TestGoSDKEvents(t *testing.T) {
	// The Go SDK's typed event handlers, end to end through the real runtime.
	wasm := testutil.BuildGoWasm(t, "examples/go-events", true)
	start := time.Now()
	mark := func(what string) { t.Logf("%6.2fs %s", time.Since(start).Seconds(), what) }
	n := testutil.StartNode(t, "", fastRetries)
	_, _, err := n.Registry.Deploy(context.Background(), registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: "events", Routes: []string{"/publish/..."}, Triggers: []model.Trigger{
		{Kind: "kv"}, // the whole own namespace: the example must not loop
		{Kind: "upload", Bucket: "files"},
		{Kind: "schedule", Cron: "* * * * * *"},
		{Kind: "queue", Queue: "jobs", BatchSize: 10, MaxAttempts: 2},
	}}, Wasm: wasm})
	if err != nil {
		t.Fatal(err)
	}
	mark("deployed")
	get := func(key string) string {
		e, err := n.KV.Get("events", key)
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(e.Value)
	}
	dump := func() {
		for _, e := range n.Logs.Tail("events", 0, 200) {
			t.Logf("log %s %s %s", e.Level, e.Stream, e.Message)
		}
	}
	defer func() {
		if t.Failed() {
			dump()
		}
	}()

	// kv: small value, large value, delete.
	n.KV.Put(context.Background(), "events", "watch/a", []byte("hello"), kvPutNone)
	big := bytes.Repeat([]byte("B"), 100<<10)
	n.KV.Put(context.Background(), "events", "watch/big", big, kvPutNone)
	testutil.Eventually(t, 10*time.Second, "kv markers", func() bool {
		return get("seen/watch/a") == "hello" && get("seen/watch/big") == string(big)
	})
	n.KV.Delete(context.Background(), "events", "watch/a", nil)
	testutil.Eventually(t, 10*time.Second, "kv delete marker", func() bool {
		return strings.Contains(get("seen/watch/a"), "not found")
	})

	mark("kv done")
	// upload: 300 kB through object_read.
	content := bytes.Repeat([]byte("0123456789abcdef"), 300_000/16)
	sum := sha256.Sum256(content)
	r := testutil.Do(t, "PUT", n.AdminURL()+"/v1/buckets/files/dir/x.bin", bytes.NewReader(content),
		map[string]string{"Authorization": "Bearer " + testutil.Token, "Content-Type": "application/octet-stream"})
	if r.Status != 201 {
		t.Fatalf("upload %d %s", r.Status, r.Body)
	}
	want := strconv.Itoa(len(content)) + " " + hex.EncodeToString(sum[:])
	testutil.Eventually(t, 10*time.Second, "upload record", func() bool { return get("upload/dir/x.bin") == want })

	mark("upload done")
	// HTTP publish -> queue -> msg/<id>.
	r = testutil.Do(t, "POST", n.PublicURL()+"/publish/jobs", strings.NewReader("first"), nil)
	if r.Status != 202 {
		t.Fatalf("publish %d %s", r.Status, r.Body)
	}
	r = testutil.Do(t, "POST", n.PublicURL()+"/publish/bad%20name", strings.NewReader("x"), nil)
	if r.Status != 400 {
		t.Fatalf("publish bad name %d %s", r.Status, r.Body)
	}
	testutil.Eventually(t, 10*time.Second, "msg stored", func() bool {
		p, _ := n.KV.List("events", kv.ListOptions{Prefix: "msg/"})
		for _, e := range p.Entries {
			if string(e.Value) == "first" {
				return true
			}
		}
		return false
	})
	mark("queue done")
	// A failing message is retried then dead-lettered.
	testutil.Do(t, "POST", n.PublicURL()+"/publish/jobs", strings.NewReader("fail"), nil)
	testutil.Eventually(t, 15*time.Second, "dead letter", func() bool {
		d, _ := n.Events.DeadLetters("jobs", "")
		return len(d) == 1
	})

	mark("dead letter done")
	// schedule.
	testutil.Eventually(t, 10*time.Second, "ticks", func() bool {
		v, _ := strconv.Atoi(get("ticks"))
		return v >= 2
	})

	mark("ticks done")
	// The self-write guard: no runaway seen/seen/... keys.
	if p, _ := n.KV.List("events", kv.ListOptions{Prefix: "seen/seen/"}); len(p.Entries) != 0 {
		t.Errorf("marker loop: %v", p.Entries)
	}
	logs := ""
	for _, e := range n.Logs.Tail("events", 0, 500) {
		logs += e.Level + " " + e.Message + "\n"
	}
	if !strings.Contains(logs, "asked to fail") {
		t.Errorf("the failure is not logged:\n%s", logs)
	}
}
