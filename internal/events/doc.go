// Package events owns asynchronous invocation: the triggers that turn
// key-value changes, uploads, schedules and queue messages into events,
// the durable work log that holds every pending delivery, and the
// dispatcher that runs them with per-trigger concurrency caps, retries
// with backoff, and a dead-letter list.
//
// Delivery is at least once. An event is written to the work log in the
// same bbolt transaction as the fact that caused it (the key-value write,
// the uploaded object, the published message, the schedule's last tick),
// so an acknowledged write always has its event, even across kill -9. It
// is removed only after the function returned success; a crash in between
// means the event runs again after restart.
//
// Buckets in the node's bbolt file:
//
//	events.work     seq (u64 BE) -> Item (JSON)    pending deliveries
//	events.dead     seq (u64 BE) -> Item (JSON)    deliveries that used up their attempts
//	events.sched    function#trigger -> last tick (unix ms)
//	objects.meta    bucket/name -> Object (JSON)
//	objects.data    bucket/name -> bytes (objects up to InlineLimit)
//
// overview.go reads them back for the admin API and the web console:
// schedules with their last and next tick, queues with their consumers
// and dead letters, buckets with their objects and triggers.
//
// Which node runs a trigger in a cluster: the node that took the write,
// the upload or the publish enqueues its events and runs them (no event
// crosses the network); a schedule fires on exactly one live node per
// tick, the owner of "function#trigger@tick" by rendezvous hashing over the
// membership (Manager.IsOwner, wired by the cluster).
//
// So a queue message runs once, on the node it was published to, in
// normal times and under a network partition alike: no other node ever
// sees it. If that node dies, its pending messages wait, durable, in its
// work log until it restarts; no other node takes them over. A schedule
// is different: during a partition each side computes its owner from
// the members it can see, so a tick fires once on each side; and for
// about a gossip round around a membership change two nodes may both
// think they own a tick, or neither.
package events
