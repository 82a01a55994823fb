package kv

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"

	"go.etcd.io/bbolt"

	"github.com/wedge-run/wedge/internal/hlc"
)

// apply performs op inside tx. A failed precondition (CAS conflict, not
// a counter, ...) is reported in op.err before anything is modified, and
// apply returns nil so that the rest of the transaction proceeds. A
// non-nil return is a storage error that must abort the transaction.
func (s *Store) apply(tx *bbolt.Tx, op *writeOp) error {
	switch op.kind {
	case opPut, opDelete, opIncrement:
		return s.applyLocal(tx, op)
	case opRemote:
		return s.applyRemote(tx, op)
	case opPurge:
		return s.applyPurge(tx, op)
	}
	return fmt.Errorf("kv: unknown write kind %d", op.kind)
}

// current loads the record of key in ns and the namespace counters;
// the namespace may not exist yet (ok false).
func current(tx *bbolt.Tx, ns string, key []byte) (nb nsBucket, ok bool, old record, exists bool, st nsStats, err error) {
	nb, ok = openNS(tx, ns)
	if !ok {
		return nb, false, old, false, st, nil
	}
	if st, err = nb.stats(); err != nil {
		return nb, ok, old, false, st, fmt.Errorf("namespace %q: %w", ns, err)
	}
	old, exists, err = nb.load(key)
	if err != nil {
		err = fmt.Errorf("namespace %q: %w", ns, err)
	}
	return nb, ok, old, exists, st, err
}

// nextVersion is the version of the next write of a key: above the
// key's current version (tombstones included) and above every version
// removed from the namespace for good.
func nextVersion(old *record, exists bool, st *nsStats) uint64 {
	v := st.floor
	if exists && old.version > v {
		v = old.version
	}
	return v + 1
}

// stampAfter returns a new local timestamp that is after the stamp of
// the record it replaces, even if the wall clock went back since that
// record was written.
func (s *Store) stampAfter(old *record, exists bool) hlc.Timestamp {
	ts := s.hlc.Now()
	if exists && !old.stamp.Less(ts) {
		ts = s.hlc.Update(old.stamp)
	}
	return ts
}

// wins reports whether a write stamped (st, node) replaces a record
// stamped (ost, onode): last writer wins, the larger node id breaks
// ties.
func wins(st hlc.Timestamp, node string, ost hlc.Timestamp, onode string) bool {
	if c := st.Compare(ost); c != 0 {
		return c > 0
	}
	return node > onode
}

func (s *Store) applyLocal(tx *bbolt.Tx, op *writeOp) error {
	key := []byte(op.key)
	nb, ok, old, exists, st, err := current(tx, op.ns, key)
	if err != nil {
		op.err = err
		return nil
	}
	now := s.clock.Now()
	nowMs := now.UnixMilli()
	live := exists && old.visibleAt(nowMs)
	var cur uint64
	if live {
		cur = old.version
	}
	if op.cas && op.ifVersion != cur {
		op.err = fmt.Errorf("%w: %s/%q is at version %d, expected %d", ErrVersionConflict, op.ns, op.key, cur, op.ifVersion)
		return nil
	}
	nr := record{version: nextVersion(&old, exists, &st), node: s.node}
	change := Change{Namespace: op.ns, Key: op.key, OldVersion: cur, NewVersion: nr.version, Node: s.node, Trace: op.trace}
	switch op.kind {
	case opPut:
		nr.value = op.value
		nr.expires = expiryMs(now, op.ttl)
		change.Op = OpPut
	case opIncrement:
		var n int64
		if live {
			n, err = strconv.ParseInt(string(old.value), 10, 64)
			if err != nil {
				op.err = fmt.Errorf("%w: %s/%q holds %s", ErrNotCounter, op.ns, op.key, describeValue(old.value))
				return nil
			}
			nr.expires = old.expires // a counter keeps its expiry
		}
		if (op.delta > 0 && n > math.MaxInt64-op.delta) || (op.delta < 0 && n < math.MinInt64-op.delta) {
			op.err = fmt.Errorf("%w: %s/%q is %d, adding %d", ErrCounterOverflow, op.ns, op.key, n, op.delta)
			return nil
		}
		n += op.delta
		nr.value = strconv.AppendInt(nil, n, 10)
		op.counter = n
		change.Op = OpPut
	case opDelete:
		nr.tombstone = true
		nr.deletedAt = nowMs
		change.Op = OpDelete
	}
	nr.stamp = s.stampAfter(&old, exists)
	if !ok {
		if nb, err = createNS(tx, op.ns); err != nil {
			return err
		}
	}
	if err := nb.store(key, &old, exists, &nr, &st); err != nil {
		return err
	}
	if err := nb.setStats(st); err != nil {
		return err
	}
	if !nr.tombstone {
		op.entry = nr.entry(op.key, true)
		op.entry.Value = nr.value
	}
	change.Value = nr.value
	change.Stamp = nr.stamp
	if nr.expires != 0 {
		change.Expires = op.entry.Expires
	}
	op.events = append(op.events, change)
	return nil
}

// describeValue quotes a short value for an error message.
func describeValue(v []byte) string {
	if len(v) > 32 {
		return fmt.Sprintf("a %d-byte value", len(v))
	}
	return strconv.Quote(string(v))
}

func (s *Store) applyRemote(tx *bbolt.Tx, op *writeOp) error {
	c := &op.change
	s.hlc.Update(c.Stamp)
	key := []byte(c.Key)
	nb, ok, old, exists, st, err := current(tx, c.Namespace, key)
	if err != nil {
		op.err = err
		return nil
	}
	if exists && !wins(c.Stamp, c.Node, old.stamp, old.node) {
		return nil // op.applied stays false
	}
	nowMs := s.clock.Now().UnixMilli()
	var cur uint64
	if exists && old.visibleAt(nowMs) {
		cur = old.version
	}
	nr := record{
		version: max(nextVersion(&old, exists, &st), c.NewVersion),
		stamp:   c.Stamp,
		node:    c.Node,
	}
	if c.Op == OpDelete {
		nr.tombstone = true
		nr.deletedAt = nowMs
	} else {
		nr.value = c.Value
		if !c.Expires.IsZero() {
			nr.expires = max(c.Expires.UnixMilli(), 1)
		}
	}
	if !ok {
		if nb, err = createNS(tx, c.Namespace); err != nil {
			return err
		}
	}
	if err := nb.store(key, &old, exists, &nr, &st); err != nil {
		return err
	}
	if err := nb.setStats(st); err != nil {
		return err
	}
	op.applied = true
	op.events = append(op.events, Change{
		Namespace:  c.Namespace,
		Key:        c.Key,
		Op:         c.Op,
		OldVersion: cur,
		NewVersion: nr.version,
		Value:      nr.value,
		Expires:    c.Expires,
		Stamp:      c.Stamp,
		Node:       c.Node,
		Remote:     true,
	})
	return nil
}

// applyPurge turns expired records into tombstones and removes
// tombstones older than the retention, handling at most purgeBatchSize
// index entries; op.more reports that more may remain.
func (s *Store) applyPurge(tx *bbolt.Tx, op *writeOp) error {
	all := namespacesBucket(tx)
	if all == nil {
		return errors.New("kv: namespaces bucket missing")
	}
	nowMs := s.clock.Now().UnixMilli()
	cutoff := nowMs - s.retention.Milliseconds()
	budget := purgeBatchSize
	var names [][]byte
	if err := all.ForEachBucket(func(k []byte) error {
		names = append(names, bytes.Clone(k))
		return nil
	}); err != nil {
		return err
	}
	var due [][]byte
	for _, name := range names {
		nb, ok := nsFrom(all.Bucket(name))
		if !ok {
			continue
		}
		st, err := nb.stats()
		if err != nil {
			return fmt.Errorf("namespace %q: %w", name, err)
		}
		// Expired values become tombstones that keep the value's stamp:
		// expiry happens on every node at the same moment, and the
		// tombstone still defeats older writes that arrive late.
		due = collectDue(nb.exp, nowMs, &budget, due[:0])
		for _, ik := range due {
			if len(ik) <= 8 { // malformed index entry
				if err := nb.exp.Delete(ik); err != nil {
					return err
				}
				continue
			}
			key := ik[8:]
			old, exists, err := nb.load(key)
			if err != nil {
				return fmt.Errorf("namespace %q: %w", name, err)
			}
			if !exists || old.tombstone || old.expires != indexTime(ik) {
				if err := nb.exp.Delete(ik); err != nil { // stale entry
					return err
				}
				continue
			}
			nr := record{version: old.version, stamp: old.stamp, node: old.node, tombstone: true, deletedAt: nowMs}
			if err := nb.store(key, &old, true, &nr, &st); err != nil {
				return err
			}
			op.expired++
			op.events = append(op.events, Change{
				Namespace:  string(name),
				Key:        string(key),
				Op:         OpExpire,
				OldVersion: old.version,
				NewVersion: old.version,
				Stamp:      old.stamp,
				Node:       old.node,
			})
		}
		due = collectDue(nb.tomb, cutoff, &budget, due[:0])
		for _, ik := range due {
			if len(ik) <= 8 { // malformed index entry
				if err := nb.tomb.Delete(ik); err != nil {
					return err
				}
				continue
			}
			key := ik[8:]
			old, exists, err := nb.load(key)
			if err != nil {
				return fmt.Errorf("namespace %q: %w", name, err)
			}
			if exists && old.tombstone && old.deletedAt == indexTime(ik) {
				if err := nb.data.Delete(key); err != nil {
					return err
				}
				st.floor = max(st.floor, old.version)
				op.tombs++
			}
			if err := nb.tomb.Delete(ik); err != nil {
				return err
			}
		}
		if err := nb.setStats(st); err != nil {
			return err
		}
		if budget == 0 {
			op.more = true
			break
		}
	}
	return nil
}

// collectDue appends copies of the index keys of b whose time is at or
// before ms, spending budget.
func collectDue(b *bbolt.Bucket, ms int64, budget *int, dst [][]byte) [][]byte {
	c := b.Cursor()
	for k, _ := c.First(); k != nil && *budget > 0; k, _ = c.Next() {
		if len(k) >= 8 && indexTime(k) > ms {
			break
		}
		dst = append(dst, bytes.Clone(k))
		*budget--
	}
	return dst
}
