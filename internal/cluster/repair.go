package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wedge-run/wedge/internal/kv"
)

// maxRepairPages bounds one repair: 2000 entries a page, so up to 10M
// keys per namespace and run; the rest waits for the next push/pull.
const maxRepairPages = 5000

// repairApplyParallel is how many pulled records a repair applies at
// once. The KV store commits the writes queued together in one
// transaction (group commit), so records applied side by side share a
// commit and its fsync; one at a time, each paid a commit of its own,
// and a node that missed 10,000 keys needed tens of seconds to repair.
const repairApplyParallel = 64

// applyAll applies records pulled by a repair (distinct keys, so their
// order does not matter), repairApplyParallel at a time, and returns
// how many won.
func (c *Cluster) applyAll(recs []kv.Change) int {
	var applied atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, repairApplyParallel)
	for _, rec := range recs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if c.applyPulled(rec, false) {
				applied.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(applied.Load())
}

// repair is the anti-entropy worker for one namespace whose digest
// differs from a peer's: walk the peer's entry list page by page, pick
// the keys it holds newer (or that this node lacks), pull those records
// and apply them. Nothing is pushed: the peer repairs from this node at
// its own push/pull. Repairs of one namespace are at least half a
// push/pull interval apart.
func (c *Cluster) repair(ns string, job repairJob) {
	gap := c.mlc.PushPullInterval / 2
	if ns == functionRepair {
		c.repairFunctions(job, gap)
		return
	}
	c.repairMu.Lock()
	if last, ok := c.lastRepair[ns]; ok && time.Since(last) < gap {
		c.repairMu.Unlock()
		return
	}
	c.lastRepair[ns] = time.Now()
	if len(c.lastRepair) > maxPendingRepairs {
		for k, t := range c.lastRepair {
			if time.Since(t) > gap {
				delete(c.lastRepair, k)
			}
		}
	}
	c.repairMu.Unlock()

	start := time.Now()
	pulled, applied, err := c.repairFrom(c.ctx, job.peer, job.admin, ns)
	c.stats.repairs.Add(1)
	if err != nil {
		c.stats.repairErrors.Add(1)
		if !c.closed.Load() {
			c.log.Warn("cluster: kv repair", "ns", ns, "peer", job.peer, "pulled", pulled, "applied", applied, "err", err)
		}
		return
	}
	c.log.Debug("cluster: kv repair", "ns", ns, "peer", job.peer, "pulled", pulled, "applied", applied, "took", time.Since(start))
}

// repairFrom walks the entry list of namespace ns on peer (admin
// address admin) page by page, pulls the records the peer holds newer
// than this node (or that this node lacks) and applies them. It returns
// how many records it pulled and how many won.
func (c *Cluster) repairFrom(ctx context.Context, peerName, admin, ns string) (pulled, applied int, err error) {
	peer := Member{Name: peerName, Meta: NodeMeta{AdminAddr: admin}}
	after := ""
	for range maxRepairPages {
		entries, more, err := c.fetchEntries(peerName, admin, ns, after)
		if err != nil {
			return pulled, applied, err
		}
		var want []string
		for _, e := range entries {
			cur, err := c.kv.Export(ns, e.Key)
			switch {
			case errors.Is(err, kv.ErrNotFound):
				want = append(want, e.Key)
			case err != nil:
				return pulled, applied, err
			case Newer(e.Stamp, e.Node, cur.Stamp, cur.Node):
				want = append(want, e.Key)
			}
		}
		if len(want) > 0 {
			recs, err := c.fetchRecords(peer, ns, want)
			pulled += len(recs)
			applied += c.applyAll(recs)
			if err != nil {
				return pulled, applied, err
			}
		}
		if !more || len(entries) == 0 {
			return pulled, applied, nil
		}
		after = entries[len(entries)-1].Key
		if c.closed.Load() || ctx.Err() != nil {
			return pulled, applied, ErrClosed
		}
	}
	return pulled, applied, nil
}

// repairFunctions fetches a peer's function records when their digest
// differs from this node's, and queues the newer ones for the registry
// workers (which fetch modules as for gossip). At most one run per half
// push/pull interval.
func (c *Cluster) repairFunctions(job repairJob, gap time.Duration) {
	c.repairMu.Lock()
	if last, ok := c.lastRepair[functionRepair]; ok && time.Since(last) < gap {
		c.repairMu.Unlock()
		return
	}
	c.lastRepair[functionRepair] = time.Now()
	c.repairMu.Unlock()
	b, _, err := c.peerDo(c.ctx, job.peer, job.admin, "GET", InternalPrefix+"functions/", nil, nil, maxFunctionList)
	var recs []wireFunction
	if err == nil {
		err = json.Unmarshal(b, &recs)
	}
	c.stats.repairs.Add(1)
	if err != nil {
		c.stats.repairErrors.Add(1)
		if !c.closed.Load() {
			c.log.Warn("cluster: function repair", "peer", job.peer, "err", err)
		}
		return
	}
	queued := c.mergeFunctions(recs, c.horizon())
	c.log.Debug("cluster: function repair", "peer", job.peer, "records", len(recs), "newer", queued)
}

// maxFunctionList bounds a peer's function record list: 256 MiB, about
// a million records.
const maxFunctionList = 256 << 20
