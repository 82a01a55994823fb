package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/wedge-run/wedge/internal/hlc"
)

// delegate is the memberlist.Delegate. memberlist calls NotifyMsg and
// GetBroadcasts on its packet goroutines and the state methods on its
// push/pull goroutines: none of them may block, so everything that
// touches the registry, the store or the network is queued to workers.
type delegate struct{ c *Cluster }

// NodeMeta returns the metadata gossiped with this node's alive
// messages: its NodeMeta, current Load and the functions it serves.
func (d delegate) NodeMeta(limit int) []byte {
	b := encodeMeta(d.c.cfg.Meta, *d.c.load.Load(), d.c.servingNow())
	if len(b) > limit {
		return nil // New checked the size; cannot happen
	}
	return b
}

// NotifyMsg receives a gossip message. b is reused after the call.
func (d delegate) NotifyMsg(b []byte) {
	c := d.c
	if len(b) == 0 || c.closed.Load() {
		return
	}
	c.stats.received.Add(1)
	var err error
	switch msgType(b[0]) {
	case msgFunction:
		var rec FunctionRecord
		if rec, err = decodeFunction(b[1:]); err == nil {
			c.receiveFunction(rec, bytes.Clone(b))
		}
	case msgFunctionAnnounce:
		var a wireAnnounce
		if a, err = decodeFunctionAnnounce(b[1:]); err == nil {
			c.receiveFunctionAnnounce(a)
		}
	case msgKVChange:
		var rest []byte
		w := kvWork{msg: bytes.Clone(b)}
		if w.change, rest, err = decodeChange(b[1:]); err == nil && len(rest) == 0 {
			if c.kv != nil && !c.kvQ.put(kvBroadcastName(w.change.Namespace, w.change.Key), w) {
				c.stats.dropped.Add(1)
			}
		} else if err == nil {
			err = ErrMalformed
		}
	case msgKVAnnounce:
		var a announce
		if a, err = decodeAnnounce(b[1:]); err == nil && c.kv != nil {
			if !c.kvFetchQ.put(kvBroadcastName(a.Namespace, a.Key), a) {
				c.stats.dropped.Add(1)
			}
		}
	case msgLeaving:
		var w wireLeaving
		if err = json.Unmarshal(b[1:], &w); err == nil && w.Node != "" && w.Node != c.cfg.NodeName {
			if c.members.noteLeaving(w.Node) {
				c.out.queue("l\x00"+w.Node, hlc.Timestamp{Wall: w.At}, w.Node, bytes.Clone(b), true)
			}
		}
	default:
		c.stats.unknown.Add(1) // a newer node's message type
		return
	}
	if err != nil {
		c.stats.malformed.Add(1)
		c.log.Debug("cluster: dropping malformed gossip message", "type", b[0], "err", err)
	}
}

// GetBroadcasts hands memberlist the queued messages for one packet.
func (d delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.c.out.get(overhead, limit)
}

// LocalState and MergeRemoteState: see state.go.
func (d delegate) LocalState(join bool) []byte { return d.c.localState() }

func (d delegate) MergeRemoteState(buf []byte, join bool) { d.c.mergeState(buf, join) }

// receiveFunction handles a gossiped function record: relay it if it
// is new here, and queue it for the registry.
func (c *Cluster) receiveFunction(rec FunctionRecord, msg []byte) {
	if c.reg == nil || !c.noteSeen(rec.Name, version{rec.Stamp, rec.Node}) {
		return
	}
	c.out.queue(functionBroadcastName(rec.Name), rec.Stamp, rec.Node, msg, true)
	if !c.fnQ.put(rec.Name, fnWork{rec: rec}) {
		c.stats.dropped.Add(1)
	}
}

// receiveFunctionAnnounce handles a record too large for gossip: pull
// it from the node named in the announcement.
func (c *Cluster) receiveFunctionAnnounce(a wireAnnounce) {
	if c.reg == nil || !c.noteSeen(a.Name, version{hlc.Timestamp{Wall: a.Wall, Logical: a.Logical}, a.Node}) {
		return
	}
	if !c.fnFetchQ.put(a.Name, a) {
		c.stats.dropped.Add(1)
	}
}

// applyFunction is the function worker: hand the record to the
// registry, and re-announce it from here if it came as an
// announcement (so the pull does not depend on its first holder).
func (c *Cluster) applyFunction(_ string, w fnWork) {
	if err := c.reg.ApplyRemote(w.rec); err != nil {
		c.stats.fnErrors.Add(1)
		c.log.Warn("cluster: applying function record", "function", w.rec.Name, "from", w.rec.Node, "stamp", w.rec.Stamp, "err", err)
		return
	}
	c.stats.fnApplied.Add(1)
	if w.announce {
		c.out.queue(functionBroadcastName(w.rec.Name), w.rec.Stamp, w.rec.Node, encodeFunctionAnnounce(w.rec, c.cfg.NodeName), true)
	}
}

// applyKV is the KV worker for changes that came inline: apply, and
// relay if the change won here (it was news to this node).
func (c *Cluster) applyKV(_ string, w kvWork) {
	applied, err := c.kv.Apply(w.change)
	if err != nil {
		c.stats.kvErrors.Add(1)
		c.log.Warn("cluster: applying kv change", "ns", w.change.Namespace, "key", w.change.Key, "err", err)
		return
	}
	if applied {
		c.stats.kvApplied.Add(1)
		c.out.queue(kvBroadcastName(w.change.Namespace, w.change.Key), w.change.Stamp, w.change.Node, w.msg, false)
	}
}

// slogWriter turns memberlist's log lines ("[LEVEL] memberlist: ...")
// into slog records.
// slogWriter turns memberlist's log lines into slog records at their
// level. Errors from sockets closed by Shutdown (memberlist's gossip
// loop can race its own shutdown) are only debug noise.
type slogWriter struct {
	l       *slog.Logger
	closing func() bool
}

func (w slogWriter) Write(p []byte) (int, error) {
	s := strings.TrimSpace(string(p))
	level := slog.LevelInfo
	for _, lv := range []struct {
		prefix string
		level  slog.Level
	}{{"[DEBUG]", slog.LevelDebug}, {"[INFO]", slog.LevelInfo}, {"[WARN]", slog.LevelWarn}, {"[ERR]", slog.LevelError}, {"[ERROR]", slog.LevelError}} {
		if rest, ok := strings.CutPrefix(s, lv.prefix); ok {
			s, level = strings.TrimSpace(rest), lv.level
			break
		}
	}
	if level == slog.LevelError && w.closing != nil && w.closing() && strings.Contains(s, "use of closed network connection") {
		level = slog.LevelDebug
	}
	w.l.Log(context.Background(), level, s)
	return len(p), nil
}
