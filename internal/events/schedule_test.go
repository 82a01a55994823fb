package events

import (
	"testing"
	"time"

	"github.com/wedge-run/wedge/model"
)

func TestDueTick(t *testing.T) {
	s, err := model.ParseCron("*/5 * * * *", time.UTC) // every five minutes
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 11, 26, h, m, 0, 0, time.UTC) }
	// Never fired: nothing now, next tick ahead.
	if _, _, next, ok := dueTick(s, time.Time{}, at(8, 1)); ok || !next.Equal(at(8, 5)) {
		t.Fatalf("first sight: ok=%v next=%v", ok, next)
	}
	// Not yet due.
	if _, _, next, ok := dueTick(s, at(8, 5), at(8, 7)); ok || !next.Equal(at(8, 10)) {
		t.Fatalf("not due: ok=%v next=%v", ok, next)
	}
	// Exactly due: fires 8:10, nothing missed.
	if fire, missed, next, ok := dueTick(s, at(8, 5), at(8, 10)); !ok || !fire.Equal(at(8, 10)) || missed != 0 || !next.Equal(at(8, 15)) {
		t.Fatalf("due: %v %v %d %v", ok, fire, missed, next)
	}
	// Down from 8:05 to 9:02: fires 9:00 once, reports 10 missed ticks.
	if fire, missed, _, ok := dueTick(s, at(8, 5), at(9, 2)); !ok || !fire.Equal(at(9, 0)) || missed != 10 {
		t.Fatalf("after downtime: %v %v %d", ok, fire, missed)
	}
	// A year of downtime is bounded work.
	start := time.Now()
	if _, missed, _, ok := dueTick(s, at(8, 5), at(8, 5).AddDate(1, 0, 0)); !ok || missed == 0 {
		t.Fatal("year")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("unbounded")
	}
}

func TestDueTickTimezone(t *testing.T) {
	loc, err := model.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err) // model embeds the zone database
	}
	s, _ := model.ParseCron("0 9 * * *", loc)
	last := time.Date(2026, 11, 25, 9, 0, 0, 0, loc)
	fire, _, _, ok := dueTick(s, last, time.Date(2026, 11, 26, 9, 0, 30, 0, loc))
	if !ok || fire.UTC().Hour() != 8 { // 09:00 Paris is 08:00 UTC in November
		t.Fatalf("%v %v", ok, fire.UTC())
	}
}
