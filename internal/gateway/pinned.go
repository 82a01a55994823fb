package gateway

import (
	"slices"
	"sync"
	"time"
)

// pinnedFlight counts, per function, the pinned requests this node has
// admitted to run here, in generations: Drain closes the current
// generation and waits for it to empty, while requests admitted after
// join the next one. A request joins before it asks who owns its key,
// so a request that asked before an ownership change (a peer's take-
// over, internal/cluster/handover.go) is always one Drain waits for.
type pinnedFlight struct {
	mu  sync.Mutex
	cur map[string]*pinnedGen
	// closed: generations closed by a drain that are not empty yet; a
	// later drain (a take-over asked again after a timeout) waits for
	// them too.
	closed map[string][]*pinnedGen
}

type pinnedGen struct {
	n    int
	done chan struct{} // closed when n drops to 0 after the generation closed
	shut bool
}

// enter registers a pinned request of function; call the returned
// func when it has finished (or was not run here).
func (p *pinnedFlight) enter(function string) func() {
	p.mu.Lock()
	if p.cur == nil {
		p.cur = map[string]*pinnedGen{}
	}
	g := p.cur[function]
	if g == nil {
		g = &pinnedGen{done: make(chan struct{})}
		p.cur[function] = g
	}
	g.n++
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			g.n--
			if g.n == 0 {
				if g.shut {
					close(g.done)
					p.closed[function] = slices.DeleteFunc(p.closed[function], func(x *pinnedGen) bool { return x == g })
					if len(p.closed[function]) == 0 {
						delete(p.closed, function)
					}
				} else if p.cur[function] == g {
					delete(p.cur, function)
				}
			}
			p.mu.Unlock()
		})
	}
}

// drain waits until every pinned request of function registered before
// the call has finished, or max has passed; it reports whether they all
// finished.
func (p *pinnedFlight) drain(function string, max time.Duration) bool {
	p.mu.Lock()
	if g := p.cur[function]; g != nil {
		delete(p.cur, function)
		g.shut = true
		if p.closed == nil {
			p.closed = map[string][]*pinnedGen{}
		}
		p.closed[function] = append(p.closed[function], g)
	}
	wait := slices.Clone(p.closed[function])
	p.mu.Unlock()
	t := time.NewTimer(max)
	defer t.Stop()
	for _, g := range wait {
		select {
		case <-g.done:
		case <-t.C:
			return false
		}
	}
	return true
}

// DrainPinned waits until the requests under function's affinity that
// this node admitted to run here before the call have finished, or max
// has passed (the function's timeout bounds them); it reports whether
// they all finished. A peer taking over keys of the function calls it
// (through the cluster) once this node counts it as their owner.
func (s *Server) DrainPinned(function string, max time.Duration) bool {
	return s.pinned.drain(function, max)
}
