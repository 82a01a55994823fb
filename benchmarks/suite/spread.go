package suite

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/benchmarks/loadgen"
)

// spreadConfig is a closed-loop load over many paths of one server:
// every request goes to the next path in turn, so all of them are hot at
// once. (loadgen drives one URL per run; the deployed-functions scenario
// needs requests spread over up to 10,000 routes.)
type spreadConfig struct {
	Base        string   // "http://127.0.0.1:8080", loopback only
	Paths       []string // "/fn/00001", ...
	Connections int
	Warmup      time.Duration
	Duration    time.Duration
	Timeout     time.Duration
}

// spreadResult is what a spread run measured after its warmup.
type spreadResult struct {
	Requests int64 // measured requests: responses plus transport errors
	OK       int64 // 2xx responses
	Statuses map[int]int64
	Errors   int64
	Duration time.Duration          // from the end of the warmup to the last measured answer
	Latency  loadgen.LatencySummary // of the 2xx responses
}

// Throughput is 2xx responses per second.
func (r spreadResult) Throughput() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.OK) / r.Duration.Seconds()
}

// spread runs cfg. Requests are sent until Warmup+Duration has passed;
// those sent after the warmup are measured, and the last may take up to
// Timeout, which bounds the whole run.
func spread(ctx context.Context, cfg spreadConfig) (spreadResult, error) {
	u, err := url.Parse(cfg.Base)
	if err != nil || u.Scheme != "http" {
		return spreadResult{}, fmt.Errorf("%w: base URL %q", ErrOptions, cfg.Base)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return spreadResult{}, fmt.Errorf("%w: %q is not a loopback address", ErrOptions, u.Host)
	}
	if len(cfg.Paths) == 0 || cfg.Connections < 1 || cfg.Duration <= 0 {
		return spreadResult{}, fmt.Errorf("%w: spread needs paths, connections and a duration", ErrOptions)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = measureTimeout
	}
	uris := make([]string, len(cfg.Paths))
	for i, p := range cfg.Paths {
		uris[i] = "http://" + u.Host + p
	}
	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	end := measureFrom.Add(cfg.Duration)

	type worker struct {
		hist     *loadgen.Histogram
		statuses map[int]int64
		errs     int64
		last     time.Time
	}
	var next atomic.Int64
	workers := make([]*worker, cfg.Connections)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{hist: loadgen.NewHistogram(), statuses: map[int]int64{}}
		workers[i] = w
		wg.Go(func() {
			hc := &fasthttp.HostClient{Addr: u.Host, MaxConns: 1, ReadTimeout: cfg.Timeout, WriteTimeout: cfg.Timeout}
			defer hc.CloseIdleConnections()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for ctx.Err() == nil {
				sent := time.Now()
				if !sent.Before(end) {
					return
				}
				req.SetRequestURI(uris[(next.Add(1)-1)%int64(len(uris))])
				err := hc.DoDeadline(req, resp, sent.Add(cfg.Timeout))
				done := time.Now()
				if sent.Before(measureFrom) {
					continue
				}
				w.last = done
				if err != nil {
					w.errs++
					continue
				}
				code := resp.StatusCode()
				w.statuses[code]++
				if code >= 200 && code < 300 { // latency of served requests only
					w.hist.Record(done.Sub(sent))
				}
			}
		})
	}
	wg.Wait()
	res := spreadResult{Statuses: map[int]int64{}}
	h := loadgen.NewHistogram()
	last := end
	for _, w := range workers {
		h.Merge(w.hist)
		res.Errors += w.errs
		for code, n := range w.statuses {
			res.Statuses[code] += n
			res.Requests += n
			if code >= 200 && code < 300 {
				res.OK += n
			}
		}
		res.Requests += w.errs
		if w.last.After(last) {
			last = w.last
		}
	}
	res.Duration = last.Sub(measureFrom)
	res.Latency = h.Summary()
	if err := ctx.Err(); err != nil {
		return res, context.Cause(ctx)
	}
	return res, nil
}
