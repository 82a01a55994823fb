package cluster

import (
	"encoding/json"
	"maps"
	"slices"
)

// stateVersion is the version of the push/pull state; a node ignores a
// state with a version it does not know.
const stateVersion = 1

// wireState is what a node sends in a push/pull exchange (memberlist's
// LocalState), JSON: its name and admin address (so the receiver knows
// whom to repair from), every function record (small, tombstones
// included except settled ones), and one digest per KV namespace
// (never the KV data itself).
type wireState struct {
	V         int                   `json:"v"`
	Node      string                `json:"node"`
	Admin     string                `json:"admin,omitempty"`
	Functions []wireFunction        `json:"fns,omitempty"`
	KV        map[string]wireDigest `json:"kv,omitempty"`
}

type wireDigest struct {
	Count uint64 `json:"n"`
	Hash  []byte `json:"h"`
}

func (c *Cluster) localState() []byte {
	st := wireState{V: stateVersion, Node: c.cfg.NodeName, Admin: c.cfg.Meta.AdminAddr}
	horizon := c.horizon()
	if c.reg != nil {
		for _, r := range c.reg.Records() {
			if r.Deleted && r.Stamp.Less(horizon) {
				continue // settled tombstone
			}
			st.Functions = append(st.Functions, toWire(r))
		}
	}
	if c.kv != nil {
		ds, err := c.kv.Digests(horizon)
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
	if c.reg != nil && len(st.Functions) > 0 {
		local := make(map[string]FunctionRecord)
		for _, r := range c.reg.Records() {
			local[r.Name] = r
		}
		for _, w := range st.Functions {
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
			}
		}
	}
	if c.kv == nil || len(st.KV) == 0 || st.Node == c.cfg.NodeName {
		return
	}
	mine, err := c.kv.Digests(horizon)
	if err != nil {
		c.log.Warn("cluster: computing kv digests", "err", err)
		return
	}
	admin := st.Admin
	if m, ok := c.members.get(st.Node); ok && m.Meta.AdminAddr != "" {
		admin = m.Meta.AdminAddr // completed with the gossip IP if needed
	}
	if admin == "" {
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
