package devloop

import "time"

// batch is a set of changed paths, and when the first of them changed:
// the moment a round's time is measured from.
type batch struct {
	paths []string
	first time.Time
}

// debouncer gathers an editor's burst of events (a save is often a
// write, a rename and a chmod, sometimes of a temporary file first) into
// one batch: the batch is due once no event came for quiet, or maxWait
// after its first event when events never stop.
type debouncer struct {
	quiet, maxWait time.Duration
	pending        map[string]struct{}
	first, last    time.Time
}

func newDebouncer(quiet time.Duration) *debouncer {
	return &debouncer{quiet: quiet, maxWait: 20 * quiet, pending: map[string]struct{}{}}
}

func (d *debouncer) add(path string, now time.Time) {
	if len(d.pending) == 0 {
		d.first = now
	}
	d.pending[path] = struct{}{}
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
	b := batch{first: d.first}
	for p := range d.pending {
		b.paths = append(b.paths, p)
	}
	d.pending = map[string]struct{}{}
	return b
}

// merge adds b's paths to a batch not yet handed over, keeping the
// earlier start.
func (a *batch) merge(b batch) {
	a.paths = append(a.paths, b.paths...)
	if b.first.Before(a.first) {
		a.first = b.first
	}
}
