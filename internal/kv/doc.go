// Package kv is the key-value engine of a wedge node: the durable store
// behind the KV host functions, the admin API's /v1/kv routes, KV-change
// triggers and KV replication.
//
// It owns namespaced keys and values with versions, TTLs, compare-and-swap
// and counters; tombstones; change notification inside the node; and the
// last-writer-wins merge of changes from other nodes. It keeps its data in
// the node's single bbolt file, under its own top-level bucket "kv"; it
// neither opens nor closes that file.
//
// # Data model
//
// A namespace holds keys; a key holds a value (bytes), an optional expiry,
// and three pieces of metadata:
//
//   - Version: per key, on this node. Every put, increment and delete of
//     the key gives it a new, larger version. A delete leaves a tombstone
//     that remembers the version, so a re-created key continues from it,
//     and when tombstones are finally purged the namespace remembers the
//     largest purged version and new keys start above it: a version is
//     never reused. Versions are what compare-and-swap (PutOptions.IfVersion)
//     compares; 0 means "does not exist" (absent, deleted or expired).
//   - Stamp: the hybrid logical clock time of the write (internal/hlc).
//   - Node: the id of the node that made the write (Options.NodeID).
//
// Limits: keys are 1 to MaxKeyLen (512) bytes of valid UTF-8; values are
// at most MaxValueLen (1 MiB); namespace names are 1 to 128 bytes from
// [A-Za-z0-9._-], not "." or ".." (see ValidNamespace). Breaking a limit
// returns ErrInvalidKey, ErrKeyTooLarge, ErrValueTooLarge or
// ErrInvalidNamespace and changes nothing.
//
// TTL: a key written with a TTL expires at write time + TTL, rounded up
// to the millisecond. It is invisible to Get, List and Stat from that
// instant (compared with Options.Clock), before any purge. The purge
// (every Options.PurgeInterval, or Purge) turns expired keys into
// tombstones and removes tombstones older than Options.TombstoneRetention.
//
// Counters: Increment stores a counter as base-10 text, so Get returns
// e.g. "42" and a Put of "41" can be incremented. A counter keeps its
// expiry across increments; an expired or deleted one starts from 0.
//
// # Consistency
//
// On one node every write is atomic and writes are applied one after the
// other in a single order; compare-and-swap and Increment are atomic with
// respect to every other write on the node. A write returns only after
// its bbolt transaction committed (and fsynced, unless the bbolt handle
// was opened with NoSync), so an acknowledged write survives kill -9.
// Reads run in bbolt read transactions: they never wait for writers and
// see every write acknowledged before they started (a node reads its own
// writes at once).
//
// Across the cluster the store is eventually consistent, as Cloudflare
// Workers KV and Fastly KV are. The node that takes a write acknowledges
// it; replication (package cluster) forwards its Change to the other
// nodes, which merge it with ApplyRemote by last-writer-wins: the write
// with the larger (Stamp, Node) pair wins, tombstones included, so every
// node converges on the same value whatever the order and number of
// deliveries. Anti-entropy repairs what the broadcasts missed: Records
// walks a namespace's records, tombstones included, for comparison with a
// peer, and Export turns one record into the Change that ApplyRemote
// merges there. Consequences worth stating:
//
//   - Compare-and-swap and Increment are atomic per node only. Two nodes
//     incrementing one counter concurrently converge on one of their
//     results (the later write), not on the sum. Route a counter's
//     increments to one node when the sum matters.
//   - Versions are per node. ApplyRemote stores the larger of the local
//     next version and the remote NewVersion, so versions stay close, but
//     a CAS must use a version read from the node it is sent to.
//   - Local writes always win over what the node already holds: their
//     stamp is taken after the stored record's stamp even if the wall
//     clock went back, and ApplyRemote advances the local clock past
//     every remote stamp it sees.
//   - An expired key becomes a tombstone carrying the stamp of the write
//     that set the TTL, on every node independently, so older writes that
//     arrive late still lose. Expiry is not replicated (OpExpire).
//   - A tombstone is purged TombstoneRetention (default 24h) after this
//     node recorded it. A write older than the tombstone that arrives
//     after the purge (a partition longer than the retention) resurrects
//     the key: keep the retention above the longest partition to repair.
//
// # Change notification
//
// Subscribe delivers the Change of every committed write (Put, Increment,
// Delete, ApplyRemote that won, and OpExpire from the purge) under a key
// prefix of one namespace, or of all namespaces. Changes are published
// after the commit, in commit order, before the writer's call returns.
// Writers never block on subscribers: a subscriber whose buffer is full
// loses the change, counted by Subscription.Dropped; a subscriber that
// must see everything watches Dropped and resynchronizes with List.
// Replication subscribes to all namespaces and forwards changes with
// Remote false and Op other than OpExpire.
//
// # Group commit
//
// All writes go through one writer goroutine. It takes the first pending
// write, yields once so that writers woken by the previous commit can
// queue theirs, adds every write already queued (up to 512 writes or
// 8 MiB of values) and applies them in order in one bbolt transaction:
// concurrent writers share one fsync and no writer ever waits for a timer.
// Each write carries its own result. A failed precondition (CAS conflict,
// not a counter, overflow) is detected before the write touches anything,
// becomes that write's result, and the others commit. If the transaction
// itself fails, each write of the group is retried in its own transaction,
// so one bad write cannot fail its neighbours. Publishing changes from the
// one writer goroutine also gives subscribers the commit order. A write
// whose context ends while it is still queued is withdrawn (the writer
// skips it) and returns ctx.Err(); once the writer has taken it, the
// caller waits for that one commit. Reads take no context: they are one
// short bbolt read transaction and never wait on the writer.
//
// bbolt's DB.Batch was measured against it (the write function is
// idempotent because Batch may run it again when another function of the
// batch fails: it resets its results on every run and reports failed
// preconditions as results, not errors, so a conflict does not make the
// batch re-run the others). Batch waits up to DB.MaxBatchDelay (10ms by
// default, and a property of the shared *bbolt.DB that this package must
// not change) for a batch to fill, which costs a lone writer 10ms a write.
// The group commit wins at every concurrency:
//
//	durable Put, 100-byte values, writes/s (writes per commit)
//	writers   group commit    DB.Batch 10ms   DB.Batch 1ms   Update per write
//	      1     2152 (1.0)        69 (1)         424 (1)        2477 (1)
//	     16    19899 (14.2)     1001 (16)       6779 (16)       2075 (1)
//	    128    72747 (74.1)     6866 (125)     43612 (125)      2362 (1)
//
// Measured with
//
//	go test -run '^$' -bench . -benchtime 2000x ./internal/kv/
//
// on 2 vCPUs (AMD EPYC) with a virtio disk on which a 4 KiB O_DSYNC write
// takes about 0.23 ms. The disk's fsync latency varies a lot from minute
// to minute on this shared machine: an earlier run of the same command
// gave 292, 4151 and 48949 writes/s for the group commit and 75, 1311 and
// 10564 for DB.Batch; writes per commit are the stable figure. A lone
// writer pays one commit per write with either the group commit or a
// plain Update; with 16 and 128 writers the group commit needs 14 and 74
// times fewer fsyncs than Update per write. In the run above it is 31, 20
// and 11 times faster than DB.Batch with its default delay, and 5, 2.9
// and 1.7 times faster than DB.Batch with the delay tuned to 1ms.
// The same run measured Get of a 100-byte value at 1.1 us (19
// allocations) and listing all of a 10,000-key namespace in pages of 1000
// at 4.4 ms.
//
// # Bucket layout
//
//	kv                      top-level bucket of this package
//	├── "format"            key: storage format, one byte, 1
//	└── "ns"                bucket: one sub-bucket per namespace
//	    └── <namespace>     bucket
//	        ├── "s"         key: namespace counters (below)
//	        ├── "d"         bucket: key -> record (below)
//	        ├── "x"         bucket: expiry index, expires ‖ key -> size
//	        └── "t"         bucket: tombstone index, deletedAt ‖ key -> empty
//
// The indexes let the purge and Stat visit only what is due: "x" has one
// entry per live record with an expiry (expires: big-endian uint64 Unix
// milliseconds, followed by the key; the value is the uvarint of
// len(key)+len(value)); "t" has one entry per tombstone (deletedAt: the
// local time the tombstone was recorded, same encoding). "s" holds three
// uvarints: the number of live records (expired ones not yet purged
// included), their total len(key)+len(value), and the largest version
// removed by the purge. Stat and Namespaces subtract the expired entries
// of "x", so their figures are exact at all times.
//
// # Record format
//
// A record (the value of a key in "d") is:
//
//	flags       1 byte: 0x10 (format 1) | 0x01 tombstone | 0x02 has expiry
//	version     uvarint
//	stamp       12 bytes: hlc binary encoding (8-byte wall ms, 4-byte logical)
//	time        8 bytes, big-endian Unix ms; present for tombstones
//	            (deletedAt) and for values with an expiry (expires)
//	node        uvarint length, then the node id bytes
//	value       the remaining bytes (none for a tombstone)
//
// so a record costs 15 bytes plus the node id on top of its value (23
// with an expiry) while the version is below 128.
//
// # List cursors
//
// A cursor is the unpadded base64url encoding of a format byte (1)
// followed by the last key returned. List checks the format, the length
// and that the key lies under the listing's prefix, and answers
// ErrInvalidCursor otherwise. Listing resumes after that key, so a cursor
// stays valid when its key is deleted. NextCursor is "" exactly when no
// live key follows.
package kv
