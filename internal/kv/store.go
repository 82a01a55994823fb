package kv

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/wedge-run/wedge/internal/hlc"
)

// Clock is the wall clock the store reads to stamp writes and to decide
// expiry. Tests inject a fake one instead of sleeping.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Defaults for Options.
const (
	DefaultTombstoneRetention = 24 * time.Hour
	DefaultPurgeInterval      = time.Minute
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// NodeID identifies this node as the writer of its records; it breaks
	// ties between writes with equal timestamps (last-writer-wins).
	// Every node of a cluster needs a distinct one. Empty means the host
	// name.
	NodeID string
	// Clock is the wall clock; nil means the system clock.
	Clock Clock
	// TombstoneRetention is how long a deleted (or expired) key keeps its
	// tombstone before Purge removes it for good. It must exceed the
	// longest time a replicated write can take to arrive, or an old write
	// that arrives later resurrects the key. 0 means
	// DefaultTombstoneRetention.
	TombstoneRetention time.Duration
	// PurgeInterval is the period of the background purge of expired keys
	// and old tombstones. 0 means DefaultPurgeInterval; a negative value
	// disables the background purge (call Purge yourself).
	PurgeInterval time.Duration
	// Logger receives errors of the background purge; nil means
	// slog.Default().
	Logger *slog.Logger

	// OnCommit, if set, is called inside every write transaction with the
	// changes it commits (local and remote, in commit order), so that
	// another package can record work in the same transaction: the
	// KV-change triggers enqueue their events here, which makes an
	// acknowledged write and its event durable together. An error fails
	// the transaction; the writes are then retried one by one. Change
	// values alias the writers' buffers: copy what is kept.
	OnCommit func(tx *bbolt.Tx, changes []Change) error
	// mode selects how writes reach bbolt; tests and benchmarks set it to
	// compare the strategies.
	mode writeMode
}

// Entry is a live key and its value.
type Entry struct {
	// Key is the key.
	Key string
	// Value is the value; nil in a keys-only List.
	Value []byte
	// Version is the key's version on this node: it grows with every
	// put, increment and delete of the key and is never reused.
	Version uint64
	// Expires is when the key expires; the zero Time means never.
	Expires time.Time
	// Stamp is the hybrid logical clock time of the write.
	Stamp hlc.Timestamp
	// Node is the id of the node that made the write.
	Node string
}

// Store is the key-value engine of a node. It is safe for concurrent
// use.
type Store struct {
	db        *bbolt.DB
	clock     Clock
	hlc       *hlc.Clock
	node      string
	retention time.Duration
	log       *slog.Logger
	mode      writeMode

	closed    atomic.Bool
	closeOnce sync.Once
	stopping  chan struct{} // closed by Close
	queue     chan *writeOp // group commit queue
	writerEnd chan struct{} // closed when the writer goroutine exits
	purgeEnd  chan struct{} // closed when the purge goroutine exits

	onCommit func(tx *bbolt.Tx, changes []Change) error

	subMu sync.RWMutex
	subs  map[*Subscription]struct{}
}

// Open returns a Store keeping its data in db, creating its buckets if
// needed. db stays owned by the caller: Close does not close it.
func Open(db *bbolt.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("kv: nil database")
	}
	if opts.NodeID == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "local"
		}
		opts.NodeID = h
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.TombstoneRetention <= 0 {
		opts.TombstoneRetention = DefaultTombstoneRetention
	}
	if opts.PurgeInterval == 0 {
		opts.PurgeInterval = DefaultPurgeInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := db.Update(initBuckets); err != nil {
		return nil, fmt.Errorf("kv: open: %w", err)
	}
	s := &Store{
		db:        db,
		clock:     opts.Clock,
		hlc:       hlc.New(opts.Clock),
		node:      opts.NodeID,
		retention: opts.TombstoneRetention,
		log:       opts.Logger,
		mode:      opts.mode,
		onCommit:  opts.OnCommit,
		stopping:  make(chan struct{}),
		queue:     make(chan *writeOp, queueLen),
		writerEnd: make(chan struct{}),
		purgeEnd:  make(chan struct{}),
		subs:      make(map[*Subscription]struct{}),
	}
	if s.mode == modeGroup {
		go s.writer()
	} else {
		close(s.writerEnd)
	}
	if opts.PurgeInterval > 0 {
		go s.purgeLoop(opts.PurgeInterval)
	} else {
		close(s.purgeEnd)
	}
	return s, nil
}

// Close stops the background work, waits for writes already accepted to
// commit and closes all subscriptions. Later calls return ErrClosed. It
// does not close the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.stopping)
		<-s.purgeEnd
		<-s.writerEnd
		s.subMu.Lock()
		for sub := range s.subs {
			delete(s.subs, sub)
			close(sub.ch)
		}
		s.subMu.Unlock()
	})
	return nil
}

// NodeID returns the node id the store stamps its writes with.
func (s *Store) NodeID() string { return s.node }

// HLC returns the store's hybrid logical clock, which the cluster can
// use to stamp its own messages consistently with the store.
func (s *Store) HLC() *hlc.Clock { return s.hlc }

func (s *Store) purgeLoop(every time.Duration) {
	defer close(s.purgeEnd)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stopping:
			return
		case <-t.C:
			if _, _, err := s.Purge(); err != nil && !errors.Is(err, ErrClosed) {
				s.log.Error("kv: background purge failed", "err", err)
			}
		}
	}
}
