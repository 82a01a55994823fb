package invoke

import (
	"math"
	"time"
)

// Adaptive adjusts the node-wide concurrency limit to keep latency low, in
// the spirit of Netflix's gradient limiter: when requests take longer than
// they usually do, the node is past its best concurrency (CPU or memory
// contention), and the limit shrinks; when they run at their usual speed,
// it grows by a little more than a square root per window, probing for
// more throughput.
//
// Functions differ wildly in cost, so "usual" is per function: each keeps
// a slow-moving average of its latency (the baseline), and every completed
// request contributes baseline/latency to the window's gradient. A window
// closes after Window completions; the new limit is
//
//	limit * clamp(mean gradient * Tolerance, 0.5, 1) + sqrt(limit)
//
// smoothed and clamped to [Min, Max].
type Adaptive struct {
	Min, Max  int
	Window    int     // completions per adjustment; default 100
	Tolerance float64 // latency inflation tolerated before shrinking; default 1.5
	Smoothing float64 // weight of the new value; default 0.3

	baselines map[string]float64 // function -> EMA of latency (ns)
	sum       float64
	n         int
	limit     float64
	history   []LimitSample
}

// LimitSample is the limit at a point in time.
type LimitSample struct {
	Time  time.Time `json:"time"`
	Limit int       `json:"limit"`
}

func (a *Adaptive) init(limit int) {
	if a.Window <= 0 {
		a.Window = 100
	}
	if a.Tolerance <= 0 {
		a.Tolerance = 1.5
	}
	if a.Smoothing <= 0 || a.Smoothing > 1 {
		a.Smoothing = 0.3
	}
	if a.Min <= 0 {
		a.Min = 1
	}
	if a.Max <= 0 {
		a.Max = max(limit, 1) * 4
	}
	a.baselines = map[string]float64{}
	a.limit = float64(min(max(limit, a.Min), a.Max))
}

// observe records one completion and returns the (possibly new) limit.
// The caller holds the scheduler's lock.
func (a *Adaptive) observe(fn string, latency time.Duration, limit, queued int) int {
	lat := float64(max(latency, time.Microsecond))
	base, ok := a.baselines[fn]
	if !ok {
		base = lat
	}
	// The baseline follows improvements fast and degradations slowly.
	if lat < base {
		base = 0.5*base + 0.5*lat
	} else {
		base = 0.999*base + 0.001*lat
	}
	a.baselines[fn] = base
	a.sum += base / lat
	a.n++
	if a.n < a.Window {
		return limit
	}
	gradient := math.Max(0.5, math.Min(1, a.Tolerance*a.sum/float64(a.n)))
	a.sum, a.n = 0, 0
	target := float64(limit)*gradient + math.Sqrt(float64(limit))
	if queued == 0 && target > float64(limit) {
		target = float64(limit) // no one is waiting: there is no demand to grow for
	}
	a.limit = (1-a.Smoothing)*a.limit + a.Smoothing*target
	a.limit = math.Min(math.Max(a.limit, float64(a.Min)), float64(a.Max))
	nl := int(math.Round(a.limit))
	if nl != limit {
		a.history = append(a.history, LimitSample{Time: time.Now(), Limit: nl})
		if len(a.history) > 1000 {
			a.history = a.history[len(a.history)-1000:]
		}
	}
	return nl
}
