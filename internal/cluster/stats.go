package cluster

import "sync/atomic"

type counters struct {
	received, malformed, unknown, dropped              atomic.Uint64
	fnApplied, fnErrors, kvApplied, kvErrors           atomic.Uint64
	kvFetched, fetchErrors, blobsFetched, blobMismatch atomic.Uint64
	pushPulls, repairs, repairErrors, authFailures     atomic.Uint64
	reconnects, replays                                atomic.Uint64
}

// Stats are counters since New, for metrics.
type Stats struct {
	MembersAlive     int    // alive members, this one included
	BroadcastQueue   int    // gossip messages queued
	BroadcastPruned  uint64 // gossip messages dropped because the queue was full
	PendingWork      int    // inbound items waiting for a worker
	Received         uint64 // gossip messages received
	Malformed        uint64 // messages and states that did not decode
	Unknown          uint64 // messages of a type this version does not know
	Dropped          uint64 // inbound items dropped because a queue was full
	FunctionsApplied uint64 // function records the registry accepted
	FunctionErrors   uint64 // function records the registry failed to apply
	KVApplied        uint64 // remote KV changes that won locally
	KVErrors         uint64 // remote KV changes that failed to apply
	KVPulled         uint64 // KV keys asked from peers over HTTP
	FetchErrors      uint64 // announced records that could not be pulled
	BlobsFetched     uint64 // blobs fetched and verified
	BlobMismatches   uint64 // blobs rejected for a wrong sha256
	PushPulls        uint64 // push/pull states merged
	Repairs          uint64 // namespace repairs run
	RepairErrors     uint64 // namespace repairs that failed
	AuthFailures     uint64 // internal requests rejected for their signature (replays included)
	Replays          uint64 // internal requests rejected as replays (a nonce seen, or older than the replay cache)
	Reconnects       uint64 // joins to failed members or seeds that succeeded
}

// Stats returns the current counters.
func (c *Cluster) Stats() Stats {
	s := &c.stats
	return Stats{
		MembersAlive:     c.members.numAlive(),
		BroadcastQueue:   c.out.len(),
		BroadcastPruned:  c.out.pruned.Load(),
		PendingWork:      c.fnQ.len() + c.fnFetchQ.len() + c.kvQ.len() + c.kvFetchQ.len() + c.repairQ.len(),
		Received:         s.received.Load(),
		Malformed:        s.malformed.Load(),
		Unknown:          s.unknown.Load(),
		Dropped:          s.dropped.Load(),
		FunctionsApplied: s.fnApplied.Load(),
		FunctionErrors:   s.fnErrors.Load(),
		KVApplied:        s.kvApplied.Load(),
		KVErrors:         s.kvErrors.Load(),
		KVPulled:         s.kvFetched.Load(),
		FetchErrors:      s.fetchErrors.Load(),
		BlobsFetched:     s.blobsFetched.Load(),
		BlobMismatches:   s.blobMismatch.Load(),
		PushPulls:        s.pushPulls.Load(),
		Repairs:          s.repairs.Load(),
		RepairErrors:     s.repairErrors.Load(),
		AuthFailures:     s.authFailures.Load(),
		Replays:          s.replays.Load(),
		Reconnects:       s.reconnects.Load(),
	}
}
