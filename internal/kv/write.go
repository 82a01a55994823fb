package kv

import (
	"context"
	"fmt"
	"time"
)

// PutOptions are the optional parts of a Put.
type PutOptions struct {
	// TTL makes the key expire TTL after the write (rounded up to the
	// millisecond); 0 means never. Negative is ErrInvalidTTL.
	TTL time.Duration
	// IfVersion makes the Put a compare-and-swap: it succeeds only if the
	// key's current version is *IfVersion, where 0 means the key must not
	// exist (absent, deleted or expired). nil means unconditional.
	IfVersion *uint64
	// Trace is the W3C traceparent of the span that made the write; the
	// Change carries it to the triggers it fires (internal/tracing).
	Trace string
}

// Put stores value under key in namespace ns and returns the new entry.
// It returns once the write is durable. With o.IfVersion set and not
// matching, it returns ErrVersionConflict and changes nothing. If ctx
// ends while the write waits for its group commit, it returns ctx.Err()
// and changes nothing (see do).
func (s *Store) Put(ctx context.Context, ns, key string, value []byte, o PutOptions) (Entry, error) {
	if err := checkNamespaceKey(ns, key); err != nil {
		return Entry{}, err
	}
	if err := checkValue(value); err != nil {
		return Entry{}, fmt.Errorf("%w (key %s/%q)", err, ns, key)
	}
	if err := checkTTL(o.TTL); err != nil {
		return Entry{}, err
	}
	op := &writeOp{kind: opPut, ns: ns, key: key, value: append(make([]byte, 0, len(value)), value...), ttl: o.TTL, trace: o.Trace}
	if o.IfVersion != nil {
		op.cas, op.ifVersion = true, *o.IfVersion
	}
	if err := s.run(ctx, op); err != nil {
		return Entry{}, err
	}
	return op.entry, nil
}

// Delete removes key from namespace ns, leaving a tombstone that keeps
// the key's version (so a re-created key continues from it) and defeats
// older replicated writes. Deleting an absent key succeeds and still
// records a tombstone. ifVersion works as PutOptions.IfVersion; on a
// mismatch Delete returns ErrVersionConflict and changes nothing. ctx
// works as for Put.
func (s *Store) Delete(ctx context.Context, ns, key string, ifVersion *uint64) error {
	if err := checkNamespaceKey(ns, key); err != nil {
		return err
	}
	op := &writeOp{kind: opDelete, ns: ns, key: key}
	if ifVersion != nil {
		op.cas, op.ifVersion = true, *ifVersion
	}
	return s.run(ctx, op)
}

// Increment atomically adds delta to the counter at key and returns the
// new count and entry. A counter is stored as its base-10 text, so Get
// reads it as, for example, "42". An absent, deleted or expired key
// counts from 0. An existing counter keeps its expiry. If the value is
// not a base-10 int64, Increment returns ErrNotCounter; if the sum would
// overflow, ErrCounterOverflow. ctx works as for Put.
func (s *Store) Increment(ctx context.Context, ns, key string, delta int64) (int64, Entry, error) {
	if err := checkNamespaceKey(ns, key); err != nil {
		return 0, Entry{}, err
	}
	op := &writeOp{kind: opIncrement, ns: ns, key: key, delta: delta}
	if err := s.run(ctx, op); err != nil {
		return 0, Entry{}, err
	}
	return op.counter, op.entry, nil
}

// ApplyRemote applies a change made on another node (as received from
// replication) if it is newer, by last-writer-wins on (Stamp, Node),
// than what this node holds for the key, tombstones included. It always
// advances the local hybrid logical clock past c.Stamp. applied reports
// whether the change won; a duplicate or older change is not an error.
// OpExpire changes are ignored (each node expires keys itself), and so
// are c.OldVersion and c.Remote; the stored version is the larger of
// the local next version and c.NewVersion.
func (s *Store) ApplyRemote(c Change) (applied bool, err error) {
	if err := checkNamespaceKey(c.Namespace, c.Key); err != nil {
		return false, fmt.Errorf("%w: %w", ErrInvalidChange, err)
	}
	switch {
	case c.Op == OpExpire:
		return false, nil
	case c.Op != OpPut && c.Op != OpDelete:
		return false, fmt.Errorf("%w: unknown op %d", ErrInvalidChange, c.Op)
	case c.Stamp.IsZero() || c.Stamp.Wall < 0:
		return false, fmt.Errorf("%w: missing or negative stamp", ErrInvalidChange)
	case c.Node == "":
		return false, fmt.Errorf("%w: missing node id", ErrInvalidChange)
	}
	if err := checkValue(c.Value); err != nil {
		return false, fmt.Errorf("%w: %w", ErrInvalidChange, err)
	}
	if c.Op == OpPut {
		c.Value = append(make([]byte, 0, len(c.Value)), c.Value...)
	} else {
		c.Value, c.Expires = nil, time.Time{}
	}
	c.Remote = true
	op := &writeOp{kind: opRemote, change: c}
	if err := s.run(context.Background(), op); err != nil { // replication: always runs to its end
		return false, err
	}
	return op.applied, nil
}

// Purge makes expired keys into tombstones and removes tombstones older
// than the retention, in transactions of bounded size, and reports how
// many of each it handled. The background purge calls it every
// PurgeInterval.
func (s *Store) Purge() (expired, tombstones int, err error) {
	for {
		op := &writeOp{kind: opPurge}
		if err := s.run(context.Background(), op); err != nil {
			return expired, tombstones, err
		}
		expired += op.expired
		tombstones += op.tombs
		if !op.more {
			return expired, tombstones, nil
		}
	}
}

// run executes op and returns its error, storage or precondition.
func (s *Store) run(ctx context.Context, op *writeOp) error {
	if err := s.do(ctx, op); err != nil {
		return err
	}
	return op.err
}
