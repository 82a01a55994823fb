package events

import (
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wedge-run/wedge/model"
	bolt "go.etcd.io/bbolt"
)

// What the admin API and the web console list of the event sources: the
// schedules with their last and next tick, the queues with their
// consumers and dead letters, the buckets with their objects. Read-only.

// Schedule is one schedule trigger and its ticks.
type Schedule struct {
	Function string `json:"function"`
	Trigger  int    `json:"trigger"`
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	// Last is the last tick fired here (or, in a cluster, seen passing
	// while another node fired it); nil before the first.
	Last *time.Time `json:"last,omitempty"`
	// Next is the next tick due.
	Next *time.Time `json:"next,omitempty"`
}

// Schedules lists the schedule triggers by function.
func (m *Manager) Schedules() ([]Schedule, error) {
	tab := m.tab.Load()
	last := map[string]int64{}
	err := m.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSched).ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				last[string(k)] = int64(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	now := m.opt.Now()
	out := make([]Schedule, 0, len(tab.sched))
	for _, r := range tab.sched {
		s := Schedule{Function: r.fn, Trigger: r.idx, Cron: r.t.Cron, Timezone: r.t.Timezone}
		if s.Timezone == "" {
			s.Timezone = model.DefaultTimezone
		}
		sched, loc, err := r.t.Schedule()
		if err != nil {
			out = append(out, s)
			continue
		}
		from := now
		if ms, ok := last[r.fn+"#"+strconv.Itoa(r.idx)]; ok {
			t := time.UnixMilli(ms).In(loc)
			// The first sight of a trigger is recorded as its origin
			// (fireDue), which is no tick: only a time the schedule
			// fires at is a run.
			if sched.Next(t.Add(-time.Millisecond)).Equal(t) {
				utc := t.UTC()
				s.Last = &utc
			}
			if t.After(from) {
				from = t
			}
		}
		if next := sched.Next(from.In(loc)); !next.IsZero() {
			next = next.UTC()
			s.Next = &next
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Schedule) int {
		if a.Function != b.Function {
			return strings.Compare(a.Function, b.Function)
		}
		return a.Trigger - b.Trigger
	})
	return out, nil
}

// Queue is a queue: its consumers and how many messages it dead-lettered.
type Queue struct {
	Name      string   `json:"name"`
	Consumers []string `json:"consumers"`
	Dead      int      `json:"dead"`
}

// Queues lists the queues that have a consumer or dead letters.
func (m *Manager) Queues() ([]Queue, error) {
	tab := m.tab.Load()
	byName := map[string]*Queue{}
	get := func(name string) *Queue {
		q := byName[name]
		if q == nil {
			q = &Queue{Name: name, Consumers: []string{}}
			byName[name] = q
		}
		return q
	}
	for name, refs := range tab.queue {
		q := get(name)
		for _, r := range refs {
			if !slices.Contains(q.Consumers, r.fn) {
				q.Consumers = append(q.Consumers, r.fn)
			}
		}
		slices.Sort(q.Consumers)
	}
	err := m.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDead).ForEach(func(k, v []byte) error {
			var it struct {
				Queue string `json:"queue"`
			}
			if json.Unmarshal(v, &it) == nil && it.Queue != "" {
				get(it.Queue).Dead++
			}
			return nil
		})
	})
	out := make([]Queue, 0, len(byName))
	for _, q := range byName {
		out = append(out, *q)
	}
	slices.SortFunc(out, func(a, b Queue) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// Bucket is an object bucket: its objects and the functions its uploads
// trigger.
type Bucket struct {
	Name     string   `json:"name"`
	Objects  int      `json:"objects"`
	Bytes    int64    `json:"bytes"`
	Triggers []string `json:"triggers"`
}

// Buckets lists the buckets that hold objects or have upload triggers.
func (m *Manager) Buckets() ([]Bucket, error) {
	tab := m.tab.Load()
	byName := map[string]*Bucket{}
	get := func(name string) *Bucket {
		b := byName[name]
		if b == nil {
			b = &Bucket{Name: name, Triggers: []string{}}
			byName[name] = b
		}
		return b
	}
	for name, refs := range tab.upload {
		b := get(name)
		for _, r := range refs {
			if !slices.Contains(b.Triggers, r.fn) {
				b.Triggers = append(b.Triggers, r.fn)
			}
		}
		slices.Sort(b.Triggers)
	}
	err := m.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketObjMeta).ForEach(func(k, v []byte) error {
			var o Object
			if json.Unmarshal(v, &o) == nil {
				b := get(o.Bucket)
				b.Objects++
				b.Bytes += o.Size
			}
			return nil
		})
	})
	out := make([]Bucket, 0, len(byName))
	for _, b := range byName {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b Bucket) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}
