package cluster

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Handover is what the fence of a key hand-over needs from the node
// (see "Owners of keys" in the package doc). Without it (SetHandover
// never called) a node owns keys from its settle instant, unfenced.
type Handover struct {
	// Namespaces returns the KV namespaces function writes: its own and
	// its grants. ok is false when this node does not have it.
	Namespaces func(function string) (namespaces []string, ok bool)
	// Drain returns once every pinned request of function this node
	// admitted before the call has finished, or after the function's
	// timeout.
	Drain func(function string)
}

// SetHandover enables the hand-over fence. Call it before SetServing.
func (c *Cluster) SetHandover(h Handover) { c.handover.Store(&h) }

// handoverState is the fence's state on this node.
type handoverState struct {
	mu sync.Mutex
	// synced: functions this node may own keys of in its own view: it
	// was deployed here, or this node took them over from every other
	// node serving them.
	synced map[string]bool
	// syncing: functions with a take-over running.
	syncing map[string]*takeOverJob
	// takers: function -> the nodes that told this node they take it
	// over: owner candidates from then on, whatever their metadata says.
	takers map[string]map[string]bool
	// leaving: HandBack ran; this node owns no key any more.
	leaving bool
}

// takeOverJob is a take-over running: cancel stops it, done is closed
// when it ends (synced, cancelled, or the function removed).
type takeOverJob struct {
	at     time.Time // the settle instant it starts at
	cancel context.CancelFunc
	done   chan struct{}
}

// WaitTakeOver waits, up to max, for the take-over of function running
// on this node (if any, and past its settle instant: before it, the
// previous owners keep the keys) to end, and reports whether this node
// then may own its keys (TookOver). The gateway holds a pinned request this way
// rather than refusing it during the short fence.
func (c *Cluster) WaitTakeOver(function string, max time.Duration) bool {
	c.ho.mu.Lock()
	job := c.ho.syncing[function]
	c.ho.mu.Unlock()
	if job != nil && !c.clock.Now().Before(job.at) {
		t := time.NewTimer(max)
		defer t.Stop()
		select {
		case <-job.done:
		case <-t.C:
		}
	}
	return c.TookOver(function)
}

// selfSynced reports whether this node may own keys of function.
func (c *Cluster) selfSynced(function string) bool {
	if c.handover.Load() == nil {
		return true
	}
	c.ho.mu.Lock()
	defer c.ho.mu.Unlock()
	return c.ho.synced[function]
}

// TookOver reports whether this node may own keys of function: it
// serves it and passed the hand-over fence (it was deployed here, or
// every other node serving it drained and was repaired from). Without
// SetHandover it is true from the start.
func (c *Cluster) TookOver(function string) bool {
	if _, ok := c.servingNow()[function]; !ok {
		return false
	}
	return c.selfSynced(function)
}

// tookOver reports whether node told this node it takes function over.
func (c *Cluster) tookOver(function, node string) bool {
	c.ho.mu.Lock()
	defer c.ho.mu.Unlock()
	return c.ho.takers[function][node]
}

// forgetTaker drops every take-over announced by node: it changed state
// (died, left, came back) and announces again when it serves again.
func (c *Cluster) forgetTaker(node string) {
	c.ho.mu.Lock()
	defer c.ho.mu.Unlock()
	for f, m := range c.ho.takers {
		delete(m, node)
		if len(m) == 0 {
			delete(c.ho.takers, f)
		}
	}
}

// servingChanged starts a take-over for each function new in next (at
// its settle instant) and forgets the functions no longer served.
// immediate functions (deployed here) are synced at once unless another
// member already serves them (deployed here while this node was still
// installing a version from a peer): then they are taken over at once.
func (c *Cluster) servingChanged(old, next map[string]int64, immediate []string) {
	if c.handover.Load() == nil {
		return
	}
	c.ho.mu.Lock()
	defer c.ho.mu.Unlock()
	if c.ho.synced == nil {
		c.ho.synced, c.ho.syncing = map[string]bool{}, map[string]*takeOverJob{}
	}
	for f := range c.ho.synced {
		if _, ok := next[f]; !ok {
			delete(c.ho.synced, f)
		}
	}
	for f, job := range c.ho.syncing {
		if _, ok := next[f]; !ok {
			job.cancel()
			delete(c.ho.syncing, f)
		}
	}
	for f, at := range next {
		if _, ok := old[f]; ok && (c.ho.synced[f] || c.ho.syncing[f] != nil) {
			continue
		}
		if slices.Contains(immediate, f) && !c.othersServe(f) {
			c.ho.synced[f] = true
			continue
		}
		ctx, cancel := context.WithCancel(c.ctx)
		job := &takeOverJob{at: time.UnixMilli(at), cancel: cancel, done: make(chan struct{})}
		c.ho.syncing[f] = job
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer close(job.done)
			defer cancel()
			c.takeOver(ctx, f, job)
		}()
	}
}

// othersServe reports whether another alive member advertises function.
func (c *Cluster) othersServe(function string) bool {
	for _, m := range c.members.aliveMembers() {
		if _, ok := m.Serving[function]; ok && !m.Self {
			return true
		}
	}
	return false
}

// takeOverRetry is how long a take-over waits before asking again a
// peer that did not answer.
const takeOverRetry = 500 * time.Millisecond

// takeOver makes this node an owner of function's keys, at instant at:
// it tells every alive peer that serves the function that it takes it
// over; each peer counts it as an owner candidate at once, drains its
// pinned requests of the function and answers; this node then repairs
// the function's namespaces from that peer. Once every such peer
// answered and was repaired from (or died), the function is synced
// here. Until then this node is no owner candidate in its own view.
func (c *Cluster) takeOver(ctx context.Context, function string, job *takeOverJob) {
	select {
	case <-time.After(time.Until(job.at)):
	case <-ctx.Done():
		return
	}
	h := c.handover.Load()
	done := map[string]bool{}
	start := time.Now()
	for {
		var pending []Member
		for _, m := range c.members.aliveMembers() {
			if _, ok := m.Serving[function]; ok && !m.Self && !done[m.Name] {
				pending = append(pending, m)
			}
		}
		if len(pending) == 0 {
			break
		}
		nss, ok := h.Namespaces(function)
		if !ok {
			return // removed meanwhile
		}
		for _, m := range pending {
			if err := c.takeOverFrom(ctx, function, m, nss); err != nil {
				if ctx.Err() != nil {
					return
				}
				c.log.Warn("cluster: taking over a function's keys", "function", function, "peer", m.Name, "err", err)
				continue
			}
			done[m.Name] = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(takeOverRetry):
		}
	}
	c.ho.mu.Lock()
	if c.ho.syncing[function] == job {
		c.ho.synced[function] = true
		delete(c.ho.syncing, function)
	}
	c.ho.mu.Unlock()
	c.log.Debug("cluster: took over a function's keys", "function", function, "from", len(done), "took", time.Since(start))
}

// takeOverFrom announces the take-over of function to peer m, then pulls
// what m holds newer in namespaces.
func (c *Cluster) takeOverFrom(ctx context.Context, function string, m Member, namespaces []string) error {
	if m.Meta.AdminAddr == "" {
		return errors.New("peer advertises no admin address")
	}
	if _, _, err := c.peerDo(ctx, m.Name, m.Meta.AdminAddr, "POST", InternalPrefix+"takeover/"+url.PathEscape(function), nil, []byte{}, 1<<10); err != nil {
		return err
	}
	for _, ns := range namespaces {
		if _, _, err := c.repairFrom(ctx, m.Name, m.Meta.AdminAddr, ns); err != nil {
			return err
		}
	}
	return nil
}

// serveTakeover is POST /v1/internal/takeover/{function}: the signing
// node takes over function's keys. From now on it is an owner candidate
// here; the answer comes once the pinned requests of the function that
// this node admitted before have finished.
func (c *Cluster) serveTakeover(ctx *fasthttp.RequestCtx, from string) {
	if !ctx.IsPost() {
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "allowed: POST")
		return
	}
	function, err := url.PathUnescape(strings.TrimPrefix(string(ctx.Path()), InternalPrefix+"takeover/"))
	if err != nil || function == "" {
		writeError(ctx, fasthttp.StatusBadRequest, "bad_request", "want /takeover/{function}")
		return
	}
	c.ho.mu.Lock()
	if c.ho.takers == nil {
		c.ho.takers = map[string]map[string]bool{}
	}
	if c.ho.takers[function] == nil {
		c.ho.takers[function] = map[string]bool{}
	}
	c.ho.takers[function][from] = true
	c.ho.mu.Unlock()
	if h := c.handover.Load(); h != nil && h.Drain != nil {
		h.Drain(function)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
}

// HandBack is the fence of a graceful departure, to call before Leave:
// this node stops owning keys in its own view (it runs no new pinned
// request), drains the pinned requests it runs, then asks each alive
// member serving one of its functions to repair the function's
// namespaces from it (POST /v1/internal/handback/{function}), so that
// the nodes that take its keys hold its last writes before memberlist
// reports it gone. Each step is bounded (the drain by the functions'
// timeouts, each request by the fetch timeout, the whole by max); a
// peer that does not answer is left to anti-entropy.
func (c *Cluster) HandBack(max time.Duration) {
	h := c.handover.Load()
	if h == nil {
		return
	}
	c.ho.mu.Lock()
	c.ho.leaving = true
	c.ho.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, max)
	defer cancel()
	var wg sync.WaitGroup
	for f := range c.servingNow() {
		wg.Go(func() {
			h.Drain(f)
			for _, m := range c.members.aliveMembers() {
				if _, ok := m.Serving[f]; !ok || m.Self || m.Meta.AdminAddr == "" {
					continue
				}
				if _, _, err := c.peerDo(ctx, m.Name, m.Meta.AdminAddr, "POST", InternalPrefix+"handback/"+url.PathEscape(f), nil, []byte{}, 1<<10); err != nil && ctx.Err() == nil {
					c.log.Warn("cluster: handing a function's keys back", "function", f, "peer", m.Name, "err", err)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done(): // a drain longer than max (a long timeout): leave anyway
	}
}

// leaving reports whether HandBack ran: this node then owns no key.
func (c *Cluster) leaving() bool {
	c.ho.mu.Lock()
	defer c.ho.mu.Unlock()
	return c.ho.leaving
}

// serveHandback is POST /v1/internal/handback/{function}: the signing
// node is leaving and has drained its pinned requests of function;
// this node repairs the function's namespaces from it and answers.
func (c *Cluster) serveHandback(ctx *fasthttp.RequestCtx, from string) {
	if !ctx.IsPost() {
		writeError(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", "allowed: POST")
		return
	}
	function, err := url.PathUnescape(strings.TrimPrefix(string(ctx.Path()), InternalPrefix+"handback/"))
	if err != nil || function == "" {
		writeError(ctx, fasthttp.StatusBadRequest, "bad_request", "want /handback/{function}")
		return
	}
	h := c.handover.Load()
	m, ok := c.members.get(from)
	if h == nil || c.kv == nil || !ok || m.Meta.AdminAddr == "" {
		ctx.SetStatusCode(fasthttp.StatusOK) // nothing to catch up with here
		return
	}
	nss, ok := h.Namespaces(function)
	if !ok {
		ctx.SetStatusCode(fasthttp.StatusOK)
		return
	}
	for _, ns := range nss {
		if _, _, err := c.repairFrom(c.ctx, from, m.Meta.AdminAddr, ns); err != nil {
			writeError(ctx, fasthttp.StatusBadGateway, "repair_failed", "repairing "+ns+" from "+from+": "+err.Error())
			return
		}
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
}
