package events

import (
	"errors"
	"testing"
	"time"

	"github.com/wedge-run/wedge/model"
)

// TestOverviewListsSourcesAndTicks: schedules show no last run until
// their first tick (the origin recorded at first sight is no run), then
// a last run on the schedule and the next one after it; queues show
// their consumers and dead letters; buckets their objects and triggers.
func TestOverviewListsSourcesAndTicks(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	inv := &fakeInvoker{fail: func(string, Envelope) error { return errors.New("always fails") }}
	m := startManager(t, db, inv,
		FunctionTriggers{Name: "tick", Triggers: []model.Trigger{{Kind: KindSchedule, Cron: "* * * * * *"}}},
		FunctionTriggers{Name: "worker", Triggers: []model.Trigger{{Kind: KindQueue, Queue: "jobs", MaxAttempts: 1}, {Kind: KindUpload, Bucket: "inbox"}}},
	)
	defer m.Close()

	s, err := m.Schedules()
	if err != nil || len(s) != 1 || s[0].Function != "tick" || s[0].Timezone != "UTC" || s[0].Next == nil {
		t.Fatalf("schedules %+v, %v", s, err)
	}
	if s[0].Last != nil && s[0].Last.Nanosecond() != 0 {
		t.Fatalf("the origin (first sight, %v) shows as a run", s[0].Last)
	}
	waitFor(t, "a tick", func() bool { s, _ = m.Schedules(); return s[0].Last != nil })
	if last, next := *s[0].Last, *s[0].Next; last.Nanosecond() != 0 || !next.After(last) || next.Sub(last) > 2*time.Second {
		t.Fatalf("last %v, next %v: want a whole second and the next one after it", last, next)
	}

	if _, err := m.Publish("jobs", []byte("x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dead letter", func() bool {
		q, _ := m.Queues()
		return len(q) == 1 && q[0].Dead == 1
	})
	q, _ := m.Queues()
	if q[0].Name != "jobs" || len(q[0].Consumers) != 1 || q[0].Consumers[0] != "worker" {
		t.Fatalf("queues %+v", q)
	}

	if _, err := m.PutObject("photos", "a.txt", "text/plain", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	b, err := m.Buckets()
	if err != nil || len(b) != 2 {
		t.Fatalf("buckets %+v, %v", b, err)
	}
	if b[0].Name != "inbox" || b[0].Objects != 0 || len(b[0].Triggers) != 1 || b[1].Name != "photos" || b[1].Objects != 1 || b[1].Bytes != 5 {
		t.Fatalf("buckets %+v", b)
	}
}
