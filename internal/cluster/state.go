package cluster

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/wedge-run/wedge/internal/hlc"
)

// stateVersion is the version of the push/pull state; a node ignores a
// state with a version it does not know.
const stateVersion = 1

// wireState is what a node sends in a push/pull exchange (memberlist's
// LocalState), JSON: its name and admin address (so the receiver knows
// whom to repair from), a digest of its function records (tombstones
// included except settled ones) and one digest per KV namespace: never
// the records or the data, so the exchange stays small however many
// functions and keys there are. A differing digest schedules a repair
// over HTTP.
type wireState struct {
	V        int                   `json:"v"`
	Node     string                `json:"node"`
	Admin    string                `json:"admin,omitempty"`
	FnDigest *wireDigest           `json:"fd,omitempty"`
	KV       map[string]wireDigest `json:"kv,omitempty"`
	// KVCutoff: the KV digests count records stamped before it only
	// (KVReplica.Digests); the receiver computes its own with the same.
	KVCutoff *hlc.Timestamp `json:"kc,omitempty"`
}

// kvCutoff is the cutoff of the KV digests this node sends: writes
// younger than ten gossip rounds (500 ms on the local preset, whose
// measured propagation p99 is under 100 ms) may still be spreading by
// gossip, so they are left to it and to the next exchange.
func (c *Cluster) kvCutoff() hlc.Timestamp {
	return hlc.FromTime(c.clock.Now().Add(-10 * c.mlc.GossipInterval))
}

// functionRepair is the repair queue's key for the function registry
// (namespaces never contain a NUL byte).
const functionRepair = "\x00functions"

// functionDigest is the digest of the function records a node offers in
// push/pull: all but settled tombstones.
func (c *Cluster) functionDigest(horizon hlc.Timestamp) Digest {
	var d Digest
	for _, r := range c.reg.Records() {
		if r.Deleted && r.Stamp.Less(horizon) {
			continue
		}
		d.Add(r.Name, r.Stamp, r.Node)
	}
	return d
}

type wireDigest struct {
	Count uint64 `json:"n"`
	Hash  []byte `json:"h"`
}

func (c *Cluster) localState() []byte {
	st := wireState{V: stateVersion, Node: c.cfg.NodeName, Admin: c.cfg.Meta.AdminAddr}
	horizon := c.horizon()
	if c.reg != nil {
		d := c.functionDigest(horizon)
		st.FnDigest = &wireDigest{Count: d.Count, Hash: d.Hash[:]}
	}
	if c.kv != nil {
		cutoff := c.kvCutoff()
		st.KVCutoff = &cutoff
		ds, err := c.kv.Digests(horizon, cutoff)
		if err != nil {
			c.log.Warn("cluster: computing kv digests for push/pull", "err", err)
		}
		if len(ds) > 0 {
			st.KV = make(map[string]wireDigest, len(ds))
			for ns, d := range ds {
				st.KV[ns] = wireDigest{Count: d.Count, Hash: d.Hash[:]}
			}
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		c.log.Error("cluster: encoding push/pull state", "err", err)
		return nil
	}
	return b
}

// mergeState takes a peer's state: newer function records go to the
// registry workers; namespaces whose digest differs from ours are
// scheduled for repair from that peer (repairs pull, never push: the
// peer repairs from us at its own push/pull).
func (c *Cluster) mergeState(buf []byte, join bool) {
	if len(buf) == 0 || c.closed.Load() {
		return
	}
	var st wireState
	if err := json.Unmarshal(buf, &st); err != nil || st.V != stateVersion {
		c.stats.malformed.Add(1)
		c.log.Warn("cluster: ignoring push/pull state", "err", err, "version", st.V)
		return
	}
	c.stats.pushPulls.Add(1)
	horizon := c.horizon()
	if st.Node == c.cfg.NodeName {
		return
	}
	admin := st.Admin
	if m, ok := c.members.get(st.Node); ok && m.Meta.AdminAddr != "" {
		admin = m.Meta.AdminAddr // completed with the gossip IP if needed
	}
	if admin == "" {
		return
	}
	if c.reg != nil && st.FnDigest != nil && st.FnDigest.Count > 0 {
		d := c.functionDigest(horizon)
		if d.Count != st.FnDigest.Count || string(d.Hash[:]) != string(st.FnDigest.Hash) {
			if !c.repairQ.put(functionRepair, repairJob{peer: st.Node, admin: admin}) {
				c.stats.dropped.Add(1)
			}
		}
	}
	if c.kv == nil || len(st.KV) == 0 {
		return
	}
	var cutoff hlc.Timestamp
	if st.KVCutoff != nil {
		cutoff = *st.KVCutoff
	}
	mine, err := c.kv.Digests(horizon, cutoff)
	if err != nil {
		c.log.Warn("cluster: computing kv digests", "err", err)
		return
	}
	for _, ns := range slices.Sorted(maps.Keys(st.KV)) {
		theirs := st.KV[ns]
		if theirs.Count == 0 {
			continue
		}
		d := mine[ns]
		if d.Count == theirs.Count && string(d.Hash[:]) == string(theirs.Hash) {
			continue
		}
		if !c.repairQ.put(ns, repairJob{peer: st.Node, admin: admin}) {
			c.stats.dropped.Add(1)
		}
	}
}

// mergeFunctions queues the records of recs newer than this node's for
// the registry workers.
func (c *Cluster) mergeFunctions(recs []wireFunction, horizon hlc.Timestamp) int {
	local := make(map[string]FunctionRecord)
	for _, r := range c.reg.Records() {
		local[r.Name] = r
	}
	queued := 0
	for _, w := range recs {
		if w.check() != nil {
			c.stats.malformed.Add(1)
			continue
		}
		rec := w.record()
		old, ok := local[rec.Name]
		if ok && !rec.Newer(old) {
			continue
		}
		if !ok && rec.Deleted && rec.Stamp.Less(horizon) {
			continue // settled tombstone of a function never seen here
		}
		c.noteSeen(rec.Name, version{rec.Stamp, rec.Node})
		if !c.fnQ.put(rec.Name, fnWork{rec: rec}) {
			c.stats.dropped.Add(1)
			continue
		}
		queued++
	}
	return queued
}
