package loadgen

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// hardStopSlack is added to the drain time before connections are closed,
// so a request that times out on its own is reported as a timeout rather
// than cut off.
const hardStopSlack = 100 * time.Millisecond

// Run sends the load described by cfg and returns what was measured after
// the warmup. It returns an error wrapping ErrInvalidConfig or
// ErrNotLoopback for a bad cfg. When ctx is cancelled mid-run it stops
// promptly and returns the partial Result together with an error wrapping
// the cancellation cause. Transport errors and HTTP error statuses are not
// errors of Run: they are counted in the Result.
func Run(ctx context.Context, cfg Config) (Result, error) {
	t, err := validate(cfg)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("loadgen: not started: %w", context.Cause(ctx))
	}

	tracker := newConnTracker(t.timeout)
	open := cfg.Rate > 0
	workers := make([]*worker, t.conns)
	for i := range workers {
		workers[i] = newWorker(t, tracker, open)
	}
	defer func() {
		for _, w := range workers {
			w.release()
		}
	}()

	start := time.Now()
	p := &plan{
		start:        start,
		measureStart: start.Add(cfg.Warmup),
		end:          start.Add(cfg.Warmup + cfg.Duration),
		maxRequests:  cfg.MaxRequests,
		timeout:      t.timeout,
	}
	if open {
		p.interval = float64(time.Second) / cfg.Rate
		for _, w := range workers {
			p.waiters = append(p.waiters, w.waiter)
		}
	}

	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			if open {
				w.runOpen(p)
			} else {
				w.runClosed(p)
			}
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()

	hardStop := time.NewTimer(time.Until(p.end.Add(t.timeout + hardStopSlack)))
	defer hardStop.Stop()
	var runErr error
	var cancelAt time.Time
	select {
	case <-finished:
	case <-ctx.Done():
		cancelAt = time.Now()
		runErr = fmt.Errorf("loadgen: run cancelled: %w", context.Cause(ctx))
		p.abort()
		tracker.closeAll()
		<-finished
	case <-hardStop.C:
		p.abort()
		tracker.closeAll()
		<-finished
	}
	tracker.closeAll()
	for _, w := range workers {
		w.client.CloseIdleConnections()
	}

	res, err := assemble(t, p, workers, cancelAt)
	if err != nil {
		return Result{}, err
	}
	return res, runErr
}

// plan is the shared schedule and stop state of one run.
type plan struct {
	start, measureStart, end time.Time
	interval                 float64 // open loop: ns between intended sends
	maxRequests              int64
	timeout                  time.Duration

	ticket  atomic.Int64 // open loop: next schedule slot
	issued  atomic.Int64 // measured requests claimed against maxRequests
	capHit  atomic.Bool  // maxRequests was reached
	stopped atomic.Bool
	aborted atomic.Bool
	once    sync.Once
	waiters []waiter // open loop: interrupted by stop
}

// stop tells workers not to start more requests and wakes waiting ones.
func (p *plan) stop() {
	p.once.Do(func() {
		p.stopped.Store(true)
		for _, w := range p.waiters {
			w.interrupt()
		}
	})
}

// abort stops the run and marks requests failing from now on as aborted.
func (p *plan) abort() {
	p.aborted.Store(true)
	p.stop()
}

// claim reserves one measured request against MaxRequests.
func (p *plan) claim() bool {
	if p.maxRequests <= 0 {
		return true
	}
	if p.issued.Add(1) > p.maxRequests {
		p.capHit.Store(true)
		p.stop()
		return false
	}
	return true
}

// due returns the intended send time of open-loop slot i, relative to start.
func (p *plan) due(i int64) time.Duration {
	return time.Duration(float64(i) * p.interval)
}

// firstSlotAt returns the first open-loop slot due at or after offset d.
func (p *plan) firstSlotAt(d time.Duration) int64 {
	i := int64(math.Ceil(float64(d) / p.interval))
	for i > 0 && p.due(i-1) >= d {
		i--
	}
	for p.due(i) < d {
		i++
	}
	return i
}

// worker owns one connection, its request and response objects and its
// counters; nothing in it is shared until the run is over.
type worker struct {
	client *fasthttp.HostClient
	req    *fasthttp.Request
	resp   *fasthttp.Response
	waiter waiter // open loop only

	hist        *Histogram // 2xx responses
	all         *Histogram // every response
	lag         *Histogram // open loop only
	status      [600]int64
	statusOther map[int]int64
	errs        map[string]int64
	sent        int64     // measured requests sent
	lastDone    time.Time // completion of the last measured response
}

func newWorker(t target, tracker *connTracker, open bool) *worker {
	client := &fasthttp.HostClient{
		Addr:                      t.dialAddr,
		Dial:                      tracker.dial,
		Name:                      "wedge-loadgen",
		MaxConns:                  1,
		MaxIdemponentCallAttempts: 1, // a failed request is reported, never retried
		MaxIdleConnDuration:       t.cfg.Warmup + t.cfg.Duration + t.timeout + time.Second,
		DisablePathNormalizing:    true,
	}
	req := fasthttp.AcquireRequest()
	req.SetRequestURI(t.cfg.URL)
	req.Header.SetMethod(t.method)
	if t.cfg.Body != nil {
		req.SetBody(t.cfg.Body)
	}
	keys := make([]string, 0, len(t.cfg.Headers))
	for k := range t.cfg.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		req.Header.Set(k, t.cfg.Headers[k])
	}
	w := &worker{
		client:      client,
		req:         req,
		resp:        fasthttp.AcquireResponse(),
		hist:        NewHistogram(),
		all:         NewHistogram(),
		statusOther: map[int]int64{},
		errs:        map[string]int64{},
	}
	if open {
		w.waiter = newWaiter()
		w.lag = newLagHistogram()
	}
	return w
}

// release frees what the worker holds; after the run.
func (w *worker) release() {
	if w.waiter != nil {
		w.waiter.close()
	}
	fasthttp.ReleaseRequest(w.req)
	fasthttp.ReleaseResponse(w.resp)
}

// runClosed sends requests back to back until the window closes, the
// request budget is spent or the run is stopped.
func (w *worker) runClosed(p *plan) {
	for !p.stopped.Load() {
		sent := time.Now()
		if !sent.Before(p.end) {
			return
		}
		measured := !sent.Before(p.measureStart)
		if measured && !p.claim() {
			return
		}
		w.send(p, sent, measured)
	}
}

// runOpen takes the next slot of the shared schedule, waits until it is
// due and sends it; latency counts from the due time.
func (w *worker) runOpen(p *plan) {
	for !p.stopped.Load() {
		i := p.ticket.Add(1) - 1
		intended := p.start.Add(p.due(i))
		if !intended.Before(p.end) {
			return
		}
		measured := !intended.Before(p.measureStart)
		if measured && !p.claim() {
			return
		}
		if d := time.Until(intended); d > 0 {
			if !w.waiter.wait(d) {
				return
			}
		} else if !time.Now().Before(p.end) {
			// Overloaded: the window closed before a connection was free
			// for this slot. It counts as unsent.
			return
		}
		w.send(p, intended, measured)
	}
}

// send performs one request and, if measured, records its outcome with
// latency counted from from.
func (w *worker) send(p *plan, from time.Time, measured bool) {
	start := time.Now()
	err := w.client.DoTimeout(w.req, w.resp, p.timeout)
	done := time.Now()
	if !measured {
		return
	}
	w.sent++
	if w.lag != nil {
		w.lag.Record(start.Sub(from))
	}
	if err != nil {
		kind := classify(err)
		if p.aborted.Load() {
			kind = ErrKindAborted
		}
		w.errs[kind]++
		return
	}
	code := w.resp.StatusCode()
	if code >= 0 && code < len(w.status) {
		w.status[code]++
	} else {
		w.statusOther[code]++
	}
	w.all.Record(done.Sub(from))
	if code >= 200 && code < 300 {
		w.hist.Record(done.Sub(from))
	}
	if done.After(w.lastDone) {
		w.lastDone = done
	}
}

// assemble merges the workers' counters into a Result.
func assemble(t target, p *plan, workers []*worker, cancelAt time.Time) (Result, error) {
	res := Result{
		Mode:        ModeClosed,
		URL:         t.cfg.URL,
		Method:      t.method,
		Connections: t.conns,
		Errors:      map[string]int64{},
		StatusCodes: map[int]int64{},
	}
	if p.interval > 0 {
		res.Mode = ModeOpen
		res.TargetRate = t.cfg.Rate
	}
	h, all := NewHistogram(), NewHistogram()
	var lag *Histogram
	var finish time.Time
	var sent int64
	for _, w := range workers {
		h.Merge(w.hist)
		all.Merge(w.all)
		if w.lag != nil {
			if lag == nil {
				lag = newLagHistogram()
			}
			lag.Merge(w.lag)
		}
		for code, n := range w.status {
			if n > 0 {
				res.StatusCodes[code] += n
			}
		}
		for code, n := range w.statusOther {
			res.StatusCodes[code] += n
		}
		for k, n := range w.errs {
			res.Errors[k] += n
		}
		sent += w.sent
		if w.lastDone.After(finish) {
			finish = w.lastDone
		}
	}
	switch {
	case !cancelAt.IsZero():
		finish = latest(finish, earliest(cancelAt, p.end))
	case !p.capHit.Load():
		finish = latest(finish, p.end)
	}
	if finish.After(p.measureStart) {
		res.Duration = finish.Sub(p.measureStart)
	}
	if p.interval > 0 && cancelAt.IsZero() {
		due := p.firstSlotAt(p.end.Sub(p.start)) - p.firstSlotAt(p.measureStart.Sub(p.start))
		if p.maxRequests > 0 {
			due = min(due, p.maxRequests)
		}
		res.Unsent = max(due-sent, 0)
	}
	if err := res.finish(h, all, lag); err != nil {
		return Result{}, err
	}
	return res, nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
