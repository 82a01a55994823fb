package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wedge-run/wedge/model"
	bolt "go.etcd.io/bbolt"
)

// fakeInvoker records deliveries and answers what fail says.
type fakeInvoker struct {
	mu    sync.Mutex
	got   []Envelope
	fail  func(fn string, env Envelope) error
	calls atomic.Int64
	// running counts deliveries in flight per function; peak is the
	// largest seen.
	running, peak atomic.Int64
	hold          time.Duration
}

func (f *fakeInvoker) InvokeEvent(_ context.Context, fn string, event []byte) error {
	f.calls.Add(1)
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	var env Envelope
	if err := json.Unmarshal(event, &env); err != nil {
		return fmt.Errorf("fake invoker: envelope is not JSON: %v", err)
	}
	if f.hold > 0 {
		time.Sleep(f.hold)
	}
	if f.fail != nil {
		if err := f.fail(fn, env); err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.got = append(f.got, env)
	f.mu.Unlock()
	return nil
}

func (f *fakeInvoker) envelopes() []Envelope {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Envelope(nil), f.got...)
}

func openDB(t *testing.T, dir string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "events.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func startManager(t *testing.T, db *bolt.DB, inv Invoker, fns ...FunctionTriggers) *Manager {
	t.Helper()
	m, err := Open(Options{DB: db, Invoker: inv, ObjectsDir: t.TempDir(),
		BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m.SetFunctions(fns)
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func consumer(name, queue string, attempts int) FunctionTriggers {
	return FunctionTriggers{Name: name, Triggers: []model.Trigger{{Kind: KindQueue, Queue: queue, MaxAttempts: attempts}}}
}

func TestQueueMessageIsDeliveredToEveryConsumer(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	inv := &fakeInvoker{}
	m := startManager(t, db, inv, consumer("a", "jobs", 3), consumer("b", "jobs", 3))
	defer m.Close()

	id, err := m.Publish("jobs", []byte(`{"n":1}`))
	if err != nil || id == "" {
		t.Fatalf("publish: %q %v", id, err)
	}
	waitFor(t, "two deliveries", func() bool { return len(inv.envelopes()) == 2 })
	seen := map[string]bool{}
	for _, env := range inv.envelopes() {
		seen[env.Function] = true
		if env.Kind != KindQueue || env.Attempt != 1 {
			t.Errorf("envelope kind %q attempt %d", env.Kind, env.Attempt)
		}
		var qd QueueData
		if err := json.Unmarshal(env.Data, &qd); err != nil || qd.Queue != "jobs" || len(qd.Messages) != 1 || string(qd.Messages[0].Body) != `{"n":1}` {
			t.Errorf("queue data: %+v %v", qd, err)
		}
	}
	if !seen["a"] || !seen["b"] {
		t.Fatalf("deliveries went to %v, want a and b", seen)
	}
	waitFor(t, "the work log to empty", func() bool { return m.Stats().Pending == 0 && m.Stats().Running == 0 })
	if st := m.Stats(); st.Delivered != 2 || st.Dead != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestPublishRefusesBadInput(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	m := startManager(t, db, &fakeInvoker{})
	defer m.Close()
	if _, err := m.Publish("bad queue/name", nil); !errors.Is(err, ErrInvalidQueue) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := m.Publish("q", make([]byte, MaxMessageBytes+1)); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("oversized message: %v", err)
	}
}

// TestFailuresRetryThenDeadLetterThenReplay follows a message through
// every failed attempt to the dead-letter list and back.
func TestFailuresRetryThenDeadLetterThenReplay(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	var broken atomic.Bool
	broken.Store(true)
	var attempts []int
	var mu sync.Mutex
	inv := &fakeInvoker{fail: func(fn string, env Envelope) error {
		mu.Lock()
		attempts = append(attempts, env.Attempt)
		mu.Unlock()
		if broken.Load() {
			return errors.New("handler failed")
		}
		return nil
	}}
	m := startManager(t, db, inv, consumer("c", "jobs", 3))
	defer m.Close()
	if _, err := m.Publish("jobs", []byte("x")); err != nil {
		t.Fatal(err)
	}
	var dead []Item
	waitFor(t, "a dead letter", func() bool {
		dead, _ = m.DeadLetters("jobs", "")
		return len(dead) == 1
	})
	mu.Lock()
	if fmt.Sprint(attempts) != "[1 2 3]" {
		t.Errorf("attempt numbers seen by the function: %v, want [1 2 3]", attempts)
	}
	mu.Unlock()
	if dead[0].Attempts != 3 || dead[0].LastError != "handler failed" || dead[0].Function != "c" || dead[0].DeadAt.IsZero() {
		t.Fatalf("dead letter: %+v", dead[0])
	}
	// The dead letter is visible before the counters move: wait for them.
	waitFor(t, "the counters of a dead-lettered delivery", func() bool {
		st := m.Stats()
		return st.Dead == 1 && st.Running == 0
	})
	if st := m.Stats(); st.Dead != 1 || st.Failed != 3 || st.Retried != 2 {
		t.Fatalf("stats: %+v", st)
	}
	if other, _ := m.DeadLetters("", "someone-else"); len(other) != 0 {
		t.Fatalf("filter by function returned %d items", len(other))
	}

	if _, err := m.Replay(dead[0].Seq+999, "", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replaying an unknown item: %v", err)
	}
	broken.Store(false)
	n, err := m.Replay(dead[0].Seq, "", "")
	if err != nil || n != 1 {
		t.Fatalf("replay: %d %v", n, err)
	}
	waitFor(t, "the replayed delivery", func() bool { return len(inv.envelopes()) == 1 })
	if env := inv.envelopes()[0]; env.Attempt != 1 {
		t.Fatalf("a replay starts a fresh attempt budget; attempt = %d", env.Attempt)
	}
	if d, _ := m.DeadLetters("", ""); len(d) != 0 {
		t.Fatalf("dead letters after replay: %d", len(d))
	}
}

func TestBusyIsRetriedWithoutCountingAnAttempt(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	var busy atomic.Int64
	inv := &fakeInvoker{fail: func(string, Envelope) error {
		if busy.Add(1) <= 5 {
			return fmt.Errorf("admission: %w", ErrBusy)
		}
		return nil
	}}
	m := startManager(t, db, inv, consumer("c", "jobs", 1))
	defer m.Close()
	if _, err := m.Publish("jobs", []byte("x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery after five busy answers", func() bool { return len(inv.envelopes()) == 1 })
	if env := inv.envelopes()[0]; env.Attempt != 1 {
		t.Fatalf("busy answers counted as attempts: attempt %d", env.Attempt)
	}
	if st := m.Stats(); st.Dead != 0 || st.Failed != 0 {
		t.Fatalf("busy answers counted as failures: %+v", st)
	}
}

func TestPerTriggerConcurrencyCap(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	inv := &fakeInvoker{hold: 20 * time.Millisecond}
	fn := FunctionTriggers{Name: "c", Triggers: []model.Trigger{{Kind: KindQueue, Queue: "jobs", Concurrency: 2}}}
	m := startManager(t, db, inv, fn)
	defer m.Close()
	for i := 0; i < 12; i++ {
		if _, err := m.Publish("jobs", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "12 deliveries", func() bool { return len(inv.envelopes()) == 12 })
	if p := inv.peak.Load(); p > 2 {
		t.Fatalf("a trigger capped at 2 ran %d deliveries at once", p)
	}
}

// TestPendingWorkSurvivesRestart: a message published while its consumer
// fails stays in the work log across a close and reopen of the file, and
// is delivered by the next manager.
func TestPendingWorkSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	blocked := &fakeInvoker{fail: func(string, Envelope) error { return fmt.Errorf("down: %w", ErrBusy) }}
	m := startManager(t, db, blocked, consumer("c", "jobs", 3))
	if _, err := m.Publish("jobs", []byte("survives")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a first (busy) attempt", func() bool { return blocked.calls.Load() > 0 })
	m.Close()
	db.Close()

	db = openDB(t, dir)
	defer db.Close()
	inv := &fakeInvoker{}
	m = startManager(t, db, inv, consumer("c", "jobs", 3))
	defer m.Close()
	waitFor(t, "the delivery after restart", func() bool { return len(inv.envelopes()) == 1 })
	var qd QueueData
	json.Unmarshal(inv.envelopes()[0].Data, &qd)
	if len(qd.Messages) != 1 || string(qd.Messages[0].Body) != "survives" {
		t.Fatalf("delivered after restart: %+v", qd)
	}
}

func TestUploadFiresItsTriggerAndObjectsRoundTrip(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	inv := &fakeInvoker{}
	fn := FunctionTriggers{Name: "thumb", Triggers: []model.Trigger{{Kind: KindUpload, Bucket: "images"}}}
	m := startManager(t, db, inv, fn)
	defer m.Close()

	small := []byte("small object")
	large := make([]byte, InlineLimit+10)
	for i := range large {
		large[i] = byte(i)
	}
	for name, data := range map[string][]byte{"a.txt": small, "big.bin": large} {
		obj, err := m.PutObject("images", name, "application/octet-stream", data)
		if err != nil || obj.Size != int64(len(data)) || len(obj.SHA256) != 64 {
			t.Fatalf("put %s: %+v %v", name, obj, err)
		}
		got, body, err := m.GetObject("images", name)
		if err != nil || string(body) != string(data) || got.SHA256 != obj.SHA256 {
			t.Fatalf("get %s: %d bytes, %v", name, len(body), err)
		}
	}
	part := make([]byte, 4)
	if n, err := m.ReadObject("images", "big.bin", InlineLimit+2, part); err != nil || n != 4 || part[0] != large[InlineLimit+2] {
		t.Fatalf("ReadObject at an offset: %d %v %v", n, err, part)
	}
	waitFor(t, "two upload events", func() bool { return len(inv.envelopes()) == 2 })
	for _, env := range inv.envelopes() {
		var ud UploadData
		if err := json.Unmarshal(env.Data, &ud); err != nil || ud.Bucket != "images" || env.Kind != KindUpload {
			t.Fatalf("upload event: %+v %v", ud, err)
		}
	}
	objs, err := m.ListObjects("images", "a")
	if err != nil || len(objs) != 1 || objs[0].Name != "a.txt" {
		t.Fatalf("list: %+v %v", objs, err)
	}
	if err := m.DeleteObject("images", "big.bin"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.GetObject("images", "big.bin"); err == nil {
		t.Fatal("a deleted object is still readable")
	}
	if _, err := m.PutObject("bad bucket!", "x", "", nil); !errors.Is(err, ErrInvalidObject) {
		t.Fatalf("bad bucket name: %v", err)
	}
}
