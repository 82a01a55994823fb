package suite

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestFormatClock(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0:00", 1400 * time.Millisecond: "0:01", 61 * time.Second: "1:01",
		59*time.Minute + 59*time.Second: "59:59", 3723 * time.Second: "1:02:03", -time.Second: "0:00",
	} {
		if got := formatClock(d); got != want {
			t.Errorf("formatClock(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestProgressEstimate(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	steps := []Step{
		{Scenario: "S", What: "one", Estimate: 2 * time.Second},
		{Scenario: "S", What: "two", Estimate: 2 * time.Second},
		{Scenario: "S", What: "three", Estimate: 2 * time.Second},
		{Scenario: "S", What: "four", Estimate: 4 * time.Second},
	}
	var out bytes.Buffer
	p := newProgress(&out, clock, steps)
	if p.left() != 10*time.Second {
		t.Fatalf("left %v before anything ran", p.left())
	}
	p.header("suite")

	// Step one takes twice its estimate: the pace becomes 2 and the 8s of
	// estimates left mean 16s.
	p.begin(0, steps[0])
	clock.advance(time.Second)
	if got := p.left(); got != 9*time.Second {
		t.Errorf("left %v during step one, want 9s (no pace yet, 1s spent)", got)
	}
	clock.advance(3 * time.Second)
	p.end(steps[0], "done fine", nil, false)
	if got := p.left(); got != 16*time.Second {
		t.Errorf("left %v after a slow step, want 16s", got)
	}

	// Step two is skipped: its estimate leaves the sums without changing
	// the pace.
	p.begin(1, steps[1])
	p.end(steps[1], "", ErrSkipped, true)
	if got := p.left(); got != 12*time.Second {
		t.Errorf("left %v after a skip, want 12s", got)
	}

	// Step three is very fast: the pace is clamped at minPace.
	p.begin(2, steps[2])
	p.end(steps[2], "", context.DeadlineExceeded, false)
	// pace = 4s / 4s = 1 → 4s left.
	if got := p.left(); got != 4*time.Second {
		t.Errorf("left %v, want 4s", got)
	}
	p.begin(3, steps[3])
	clock.advance(10 * time.Second)
	if got := p.left(); got != 0 {
		t.Errorf("left %v past the estimate, want 0", got)
	}

	text := out.String()
	for _, want := range []string{
		"suite: 4 steps, estimated 0:10\n",
		"[1/4] S: one  (0:00 elapsed, ~0:10 left)\n",
		"      done fine\n",
		"[2/4] S: two  (0:04 elapsed, ~0:16 left)\n",
		"      skipped\n",
		"      failed: context deadline exceeded\n",
		"[4/4] S: four  (0:04 elapsed, ~0:04 left)\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

func TestProgressPaceIsBounded(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	steps := []Step{{Estimate: 3 * time.Second}, {Estimate: 10 * time.Second}}
	p := newProgress(nil, clock, steps)
	p.begin(0, steps[0])
	clock.advance(time.Minute) // 20 times the estimate
	p.end(steps[0], "", nil, false)
	if got := p.left(); got != 30*time.Second {
		t.Errorf("left %v, want the 10s estimate × maxPace", got)
	}
	p2 := newProgress(nil, clock, steps)
	p2.begin(0, steps[0])
	p2.end(steps[0], "", nil, false) // took no time at all
	if got := p2.left(); got != 10*time.Second {
		t.Errorf("left %v, want the estimate when the pace is unknown", got)
	}
}

func TestProgressTrustsPaceAfterATenth(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	steps := []Step{{Estimate: 3 * time.Second}, {Estimate: 10 * time.Second}, {Estimate: 87 * time.Second}}
	p := newProgress(nil, clock, steps)
	// A fast build (1s of 3s) says nothing about the measurements ahead.
	p.begin(0, steps[0])
	clock.advance(time.Second)
	p.end(steps[0], "", nil, false)
	if got := p.left(); got != 97*time.Second {
		t.Errorf("left %v after 3%% of the session, want the plain estimate", got)
	}
	// After a tenth, the pace counts, bounded below by minPace.
	p.begin(1, steps[1])
	clock.advance(time.Second)
	p.end(steps[1], "", nil, false)
	if got, want := p.left(), time.Duration(minPace*float64(87*time.Second)); got != want {
		t.Errorf("left %v, want %v", got, want)
	}
}
