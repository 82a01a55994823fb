package events

import (
	"encoding/json"
	"strings"

	"github.com/wedge-run/wedge/internal/kv"
	bolt "go.etcd.io/bbolt"
)

// KVHook is the key-value store's OnCommit hook: inside the transaction
// that commits a write, it enqueues an event for every kv trigger whose
// namespace and prefix match. Only writes taken by this node fire
// triggers (a replicated write fired them on the node that took it), and
// expiries do not.
func (m *Manager) KVHook(tx *bolt.Tx, changes []kv.Change) error {
	tab := m.tab.Load()
	if len(tab.kv) == 0 {
		return nil
	}
	var items []*Item
	for i := range changes {
		c := &changes[i]
		if c.Remote || (c.Op != kv.OpPut && c.Op != kv.OpDelete) {
			continue
		}
		for _, r := range tab.kv {
			if r.t.Namespace != c.Namespace || !strings.HasPrefix(c.Key, r.t.Prefix) {
				continue
			}
			d := KVData{Namespace: c.Namespace, Key: c.Key, Op: c.Op.String(), OldVersion: c.OldVersion, NewVersion: c.NewVersion}
			if len(c.Value) <= MaxEventValue {
				d.Value = append([]byte(nil), c.Value...)
			} else {
				d.ValueTooLarge = true
			}
			data, err := json.Marshal(d)
			if err != nil {
				return err
			}
			items = append(items, &Item{Function: r.fn, Trigger: r.idx, Kind: KindKV,
				Source: "kv:" + r.t.Namespace + "/" + r.t.Prefix, Data: data, Created: c.Stamp.Time().UTC(), Trace: c.Trace})
		}
	}
	if len(items) == 0 {
		return nil
	}
	return m.enqueue(tx, items...)
}
