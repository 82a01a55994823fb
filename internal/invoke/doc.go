// Package invoke is the node's one invoke path. HTTP requests (the
// public gateway, internal/gateway) and event deliveries (internal/node)
// both call Service.Invoke, which owns:
//
//   - lookup of the function's live version (the gateway passes the
//     version its route match found);
//   - admission through the node's Scheduler (scheduler.go: slots, memory
//     budget and fair queue; admission.go: who may take a slot;
//     queuewait.go: who may wait; adaptive.go: the gradient limit);
//   - the invocation on a fresh instance (runtime.Module.Invoke), run
//     again on the new version when a deploy retired the one it started
//     on (runtime.ErrClosed);
//   - a log line in the function's logs for every failure, and counters
//     per function and outcome.
//
// What is particular to a caller stays with it: routing, the ABI request
// head, forwarding and affinity, and HTTP statuses in the gateway;
// readiness and the events' busy/retry contract in the node.
package invoke
