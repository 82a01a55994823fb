package kv

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// writeMode is how writes reach bbolt. Only modeGroup is used outside
// tests; the other two exist so the benchmarks can compare strategies
// (see doc.go, "Group commit").
type writeMode uint8

const (
	// modeGroup: one writer goroutine drains a queue of pending writes
	// and commits all it finds in one transaction.
	modeGroup writeMode = iota
	// modeBatch: each write calls bbolt's DB.Batch.
	modeBatch
	// modeUpdate: each write is its own DB.Update (one fsync per write).
	modeUpdate
)

func (m writeMode) String() string {
	switch m {
	case modeGroup:
		return "group"
	case modeBatch:
		return "batch"
	case modeUpdate:
		return "update"
	}
	return "unknown"
}

const (
	queueLen       = 1024    // pending writes the group queue holds
	maxGroupOps    = 512     // writes committed in one transaction at most
	maxGroupBytes  = 8 << 20 // value bytes per transaction before it is cut
	purgeBatchSize = 10000   // index entries one purge transaction handles
)

type opKind uint8

const (
	opPut opKind = iota + 1
	opDelete
	opIncrement
	opRemote
	opPurge
)

// writeOp is one pending write with its own result. apply may run it
// more than once (a failed group is retried op by op), so it resets the
// results before each run.
type writeOp struct {
	kind      opKind
	ns, key   string
	value     []byte
	ttl       time.Duration
	cas       bool
	ifVersion uint64
	delta     int64
	change    Change // opRemote
	trace     string // traceparent of the write, for Change.Trace

	// results
	err     error
	entry   Entry
	counter int64
	applied bool
	expired int
	tombs   int
	more    bool
	events  []Change

	done chan struct{} // closed when the results are set (modeGroup)
	// state says who has op while it waits in the queue: the writer
	// takes it (opQueued -> opTaken) or its caller, whose context ended,
	// withdraws it (opQueued -> opWithdrawn); whichever is first wins.
	state atomic.Int32
}

const (
	opQueued int32 = iota
	opTaken
	opWithdrawn
)

// size is the number of value bytes op writes.
func (op *writeOp) size() int { return len(op.value) + len(op.change.Value) }

func (op *writeOp) reset() {
	op.err = nil
	op.entry = Entry{}
	op.counter = 0
	op.applied = false
	op.expired, op.tombs = 0, 0
	op.more = false
	op.events = op.events[:0]
}

// do runs op durably and returns when its transaction committed (or
// failed); the results are in op. If ctx ends while op waits for the
// group commit, and the writer has not taken it yet, do withdraws it
// and returns ctx.Err(): nothing was written. Once taken, op is already
// in a transaction and do waits for it (one commit, bounded).
func (s *Store) do(ctx context.Context, op *writeOp) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	switch s.mode {
	case modeBatch:
		// The function must be idempotent: Batch re-runs it when another
		// function of the batch fails. Only storage errors are returned
		// from it; a failed precondition is a result (op.err), so one
		// op's CAS conflict does not make Batch re-run the others.
		err := s.db.Batch(func(tx *bbolt.Tx) error {
			op.reset()
			return s.apply(tx, op)
		})
		s.finish([]*writeOp{op}, err)
		return nil
	case modeUpdate:
		err := s.db.Update(func(tx *bbolt.Tx) error {
			op.reset()
			return s.apply(tx, op)
		})
		s.finish([]*writeOp{op}, err)
		return nil
	}
	op.done = make(chan struct{})
	select {
	case s.queue <- op:
	case <-s.stopping:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-op.done:
		return nil
	case <-ctx.Done():
		if op.state.CompareAndSwap(opQueued, opWithdrawn) {
			return ctx.Err()
		}
		<-op.done // taken: in a transaction now
		return nil
	case <-s.writerEnd:
		// The writer drains the queue before it exits, so op is either
		// done or was queued after the drain.
		select {
		case <-op.done:
			return nil
		default:
			return ErrClosed
		}
	}
}

// writer is the group commit loop: it takes the first pending write,
// adds every other write already waiting (without waiting for more),
// and commits them in one transaction, so concurrent writers share one
// fsync. It exits after Close, once the queue is drained.
func (s *Store) writer() {
	defer close(s.writerEnd)
	group := make([]*writeOp, 0, maxGroupOps)
	for {
		var first *writeOp
		select {
		case first = <-s.queue:
		case <-s.stopping:
			select {
			case first = <-s.queue:
			default:
				return
			}
		}
		if !first.state.CompareAndSwap(opQueued, opTaken) {
			continue // withdrawn by its caller
		}
		group = append(group[:0], first)
		size := first.size()
		// Writers woken by the previous commit are runnable but may not
		// have queued their next write yet; letting them run first makes
		// groups larger (16 writers: 8 -> 13 writes per commit), which
		// saves fsyncs. See doc.go.
		runtime.Gosched()
	fill:
		for len(group) < maxGroupOps && size < maxGroupBytes {
			select {
			case op := <-s.queue:
				if op.state.CompareAndSwap(opQueued, opTaken) {
					group = append(group, op)
					size += op.size()
				}
			default:
				break fill
			}
		}
		s.commitGroup(group)
		clear(group)
	}
}

// commitGroup applies ops in order in one transaction. Each op sees the
// effects of the ops before it. A failed precondition (such as a CAS
// conflict) is that op's result and does not affect the others; if the
// transaction itself fails, each op is retried in its own transaction
// so that one bad op cannot fail its neighbours.
func (s *Store) commitGroup(ops []*writeOp) {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, op := range ops {
			op.reset()
			if err := s.apply(tx, op); err != nil {
				return err
			}
		}
		if s.onCommit != nil {
			var changes []Change
			for _, op := range ops {
				changes = append(changes, op.events...)
			}
			if len(changes) > 0 {
				return s.onCommit(tx, changes)
			}
		}
		return nil
	})
	if err != nil && len(ops) > 1 {
		for i := range ops {
			s.commitGroup(ops[i : i+1])
		}
		return
	}
	s.finish(ops, err)
}

// finish records a transaction's outcome in its ops, publishes the
// changes of the successful ones (only now that they are durable) and
// wakes their callers.
func (s *Store) finish(ops []*writeOp, txErr error) {
	for _, op := range ops {
		if txErr != nil {
			op.reset()
			op.err = txErr
		}
	}
	s.publish(ops)
	for _, op := range ops {
		if op.done != nil {
			close(op.done)
		}
	}
}
