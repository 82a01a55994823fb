package suite

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress writes one line per step: where the session is, how many steps
// of how many, the time elapsed and an estimate of the time left.
//
// The estimate is the sum of the Estimates of the steps not yet finished,
// scaled by the pace so far (time taken / time estimated for the finished
// steps, once a tenth of the session is done, within [0.75, 3]), so a
// machine slower than the estimates assume is accounted for. Skipped steps
// leave the sums: they neither take time nor count as progress.
type progress struct {
	w     io.Writer
	clock Clock
	total int
	// trustAfter is the estimated work to finish before using the pace.
	trustAfter time.Duration

	start     time.Time
	estLeft   time.Duration // estimates of steps not yet finished
	estDone   time.Duration // estimates of finished (not skipped) steps
	timeDone  time.Duration // time the finished (not skipped) steps took
	stepStart time.Time
	finished  int
}

// Pace bounds: early steps (builds, process starts) can be far off their
// estimates, while measurements, most of a session, take what they are
// planned to take; neither should swing the estimate wildly.
const (
	minPace = 0.75
	maxPace = 3.0
	// paceAfter is how much estimated work, at least, must be finished
	// before the pace is trusted: a tenth of the session.
	paceAfter    = 2 * time.Second
	paceFraction = 0.1
)

func newProgress(w io.Writer, clock Clock, steps []Step) *progress {
	if w == nil {
		w = io.Discard
	}
	p := &progress{w: w, clock: clock, total: len(steps), start: clock.Now()}
	for _, s := range steps {
		p.estLeft += s.Estimate
	}
	p.trustAfter = max(paceAfter, time.Duration(paceFraction*float64(p.estLeft)))
	return p
}

// pace is actual time over estimated time for the finished steps.
func (p *progress) pace() float64 {
	if p.estDone < p.trustAfter || p.timeDone <= 0 {
		return 1
	}
	return min(max(float64(p.timeDone)/float64(p.estDone), minPace), maxPace)
}

// left estimates the time left, including the step under way.
func (p *progress) left() time.Duration {
	left := time.Duration(float64(p.estLeft) * p.pace())
	if !p.stepStart.IsZero() {
		// Time already spent on the current step is no longer ahead.
		left -= p.clock.Now().Sub(p.stepStart)
	}
	return max(left, 0)
}

// header announces the session.
func (p *progress) header(title string) {
	fmt.Fprintf(p.w, "%s: %s, estimated %s\n", title, plural(p.total, "step", "steps"), formatClock(p.estLeft))
}

// begin announces step i (0-based).
func (p *progress) begin(i int, s Step) {
	p.stepStart = p.clock.Now()
	width := len(fmt.Sprint(p.total))
	fmt.Fprintf(p.w, "[%*d/%d] %s: %s  (%s elapsed, ~%s left)\n", width, i+1, p.total, s.Scenario, s.What,
		formatClock(p.clock.Now().Sub(p.start)), formatClock(p.left()))
}

// end records the outcome of the step begun last.
func (p *progress) end(s Step, summary string, err error, skipped bool) {
	took := p.clock.Now().Sub(p.stepStart)
	p.stepStart = time.Time{}
	p.estLeft -= s.Estimate
	p.finished++
	if !skipped {
		p.estDone += s.Estimate
		p.timeDone += took
	}
	pad := strings.Repeat(" ", 2*len(fmt.Sprint(p.total))+3)
	switch {
	case skipped:
		fmt.Fprintf(p.w, "%s skipped\n", pad)
	case err != nil:
		fmt.Fprintf(p.w, "%s failed: %v\n", pad, err)
	case summary != "":
		fmt.Fprintf(p.w, "%s %s\n", pad, summary)
	}
}

// line writes a free-form message.
func (p *progress) line(format string, args ...any) {
	fmt.Fprintf(p.w, format+"\n", args...)
}

// formatClock renders d as m:ss (h:mm:ss from an hour on), rounded to the
// second.
func formatClock(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = 0
	}
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
