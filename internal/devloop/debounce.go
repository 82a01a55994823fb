package devloop

import "time"

// batch is a set of changed paths, each with when it first changed: a
// round's time runs from the earliest change it acts on (a batch may
// also hold a build's own output, written long before).
type batch map[string]time.Time

// paths lists the batch's paths.
func (b batch) paths() []string {
	out := make([]string, 0, len(b))
	for p := range b {
		out = append(out, p)
	}
	return out
}

// first is the earliest change among paths for which keep holds, and
// false when there is none.
func (b batch) first(keep func(string) bool) (time.Time, bool) {
	var first time.Time
	for p, t := range b {
		if keep(p) && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return first, !first.IsZero()
}

// merge adds b's paths to a, keeping each path's earlier time.
func (a batch) merge(b batch) {
	for p, t := range b {
		if old, ok := a[p]; !ok || t.Before(old) {
			a[p] = t
		}
	}
}

// debouncer gathers an editor's burst of events (a save is often a
// write, a rename and a chmod, sometimes of a temporary file first) into
// one batch: the batch is due once no event came for quiet, or maxWait
// after its first event when events never stop.
type debouncer struct {
	quiet, maxWait time.Duration
	pending        batch
	first, last    time.Time
}

func newDebouncer(quiet time.Duration) *debouncer {
	return &debouncer{quiet: quiet, maxWait: 20 * quiet, pending: batch{}}
}

func (d *debouncer) add(path string, now time.Time) {
	if len(d.pending) == 0 {
		d.first = now
	}
	if _, ok := d.pending[path]; !ok {
		d.pending[path] = now
	}
	d.last = now
}

// waiting reports whether paths are pending.
func (d *debouncer) waiting() bool { return len(d.pending) > 0 }

// wait returns how long until the pending batch is due (<= 0: now).
func (d *debouncer) wait(now time.Time) time.Duration {
	due := d.last.Add(d.quiet)
	if limit := d.first.Add(d.maxWait); limit.Before(due) {
		due = limit
	}
	return due.Sub(now)
}

// take returns the pending batch and starts a new one.
func (d *debouncer) take() batch {
	b := d.pending
	d.pending = batch{}
	return b
}
