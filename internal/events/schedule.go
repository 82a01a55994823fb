package events

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"time"

	"github.com/wedge-run/wedge/model"
	bolt "go.etcd.io/bbolt"
)

// maxMissedScan bounds how many missed ticks are counted after downtime.
const maxMissedScan = 100_000

// dueTick decides what a schedule does at now, given the last tick it
// fired (zero: never). It returns the tick to fire (the latest one due),
// how many earlier ticks were missed, and when to look again.
//
// Missed ticks (the node was down, or busy) are reported, not replayed:
// one event fires for the latest due tick with its Missed count, so a
// node that was down for a week does not run a week of ticks at once.
func dueTick(s model.Schedule, last, now time.Time) (fire time.Time, missed int, next time.Time, ok bool) {
	if last.IsZero() {
		// Never fired: start from now, and do not count ticks from before
		// the trigger existed.
		return time.Time{}, 0, s.Next(now), false
	}
	t := s.Next(last)
	if t.After(now) {
		return time.Time{}, 0, t, false
	}
	for n := 0; n < maxMissedScan; n++ {
		nt := s.Next(t)
		if nt.After(now) || nt.IsZero() {
			return t, missed, nt, true
		}
		t = nt
		missed++
	}
	return t, missed, s.Next(now), true
}

func (m *Manager) loadTicks() error {
	return m.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSched).ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				m.lastTick[string(k)] = int64(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
}

// schedule fires schedule triggers.
func (m *Manager) schedule() {
	defer m.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := m.fireDue()
		wait := time.Until(next)
		wait = min(max(wait, 5*time.Millisecond), time.Minute)
		timer.Reset(wait)
		select {
		case <-m.stop:
			return
		case <-m.schedWake:
		case <-timer.C:
		}
	}
}

// fireDue fires every due tick and returns when to look again.
func (m *Manager) fireDue() time.Time {
	tab := m.tab.Load()
	now := m.opt.Now()
	earliest := now.Add(time.Minute)
	for _, r := range tab.sched {
		sched, loc, err := r.t.Schedule()
		if err != nil {
			continue
		}
		key := r.fn + "#" + strconv.Itoa(r.idx)
		var last time.Time
		if ms, ok := m.lastTick[key]; ok {
			last = time.UnixMilli(ms).In(loc)
		} else {
			// First sight of this trigger: remember now as its origin.
			m.lastTick[key] = now.UnixMilli()
			m.storeTick(key, now, nil)
			last = now.In(loc)
		}
		fire, missed, next, ok := dueTick(sched, last, now.In(loc))
		if ok {
			m.fire(r, key, fire, missed, loc.String())
		}
		if !next.IsZero() && next.Before(earliest) {
			earliest = next
		}
	}
	return earliest
}

func (m *Manager) fire(r ref, key string, tick time.Time, missed int, tz string) {
	m.lastTick[key] = tick.UnixMilli()
	if missed > 0 {
		m.stats.missedTicks.Add(int64(missed))
		m.log.Warn("events: schedule missed ticks (reported, not replayed)", "function", r.fn, "cron", r.t.Cron, "missed", missed, "firing", tick)
	}
	owner := m.isOwner(key + "@" + strconv.FormatInt(tick.UnixMilli(), 10))
	if !owner {
		m.storeTick(key, tick, nil)
		return
	}
	data, _ := json.Marshal(ScheduleData{Cron: r.t.Cron, Timezone: tz, Scheduled: tick.UTC(), Missed: missed})
	it := &Item{Function: r.fn, Trigger: r.idx, Kind: KindSchedule, Source: "cron:" + r.t.Cron, Data: data, Created: tick.UTC()}
	m.storeTick(key, tick, it)
}

// storeTick records the last tick, with its event in the same
// transaction so that a tick is either fired and remembered, or neither.
func (m *Manager) storeTick(key string, tick time.Time, it *Item) {
	err := m.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketSched).Put([]byte(key), binary.BigEndian.AppendUint64(nil, uint64(tick.UnixMilli()))); err != nil {
			return err
		}
		if it != nil {
			return m.enqueue(tx, it)
		}
		return nil
	})
	if err != nil {
		m.log.Error("events: recording a schedule tick", "trigger", key, "err", err)
	}
}
