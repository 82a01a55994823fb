// Package cluster owns membership and replication across the nodes of
// a wedge cluster, built on hashicorp/memberlist (SWIM gossip, as in
// Consul, Serf and Grafana's dskit).
//
// It owns:
//
//   - membership: joining, leaving, failure detection, the member list
//     with each node's public and admin addresses, version and load
//     (Members, PickPeer), and rendezvous hashing over the alive members
//     (Owner) to run something on exactly one node, or over the members
//     that have a function installed (FunctionOwner, for affinity);
//   - replication of the function registry: small FunctionRecords,
//     gossiped whole; module blobs never ride on gossip, a node that
//     lacks one fetches it from a peer over HTTP (FetchBlob), checking
//     its sha256;
//   - replication of the key-value store: KV changes gossiped inline
//     when they fit a packet, announced and pulled over HTTP when not,
//     and anti-entropy that repairs whatever gossip missed;
//   - the node-to-node HTTP handlers (Handlers), their authentication
//     (PeerAuthHeader) and the sealing of what they carry that must
//     stay secret (Seal);
//   - gossip encryption and key rotation (Config.Keys, InstallKey,
//     UseKey, RemoveKey).
//
// It knows the rest of the node only through two small interfaces:
// Registry (the function registry) and KVReplica (the KV store;
// StoreReplica implements it on a kv.Store).
//
// # Consistency model
//
// Functions and KV data are eventually consistent, as Cloudflare
// Workers KV and Fastly KV are:
//
//   - A write is acknowledged by the node that took it, once durable
//     there. That node reads its own writes at once; other nodes see
//     the write after it propagates (measured: tens to hundreds of
//     milliseconds on a LAN, see bench_test.go), or, if gossip missed
//     them, after the next push/pull exchange (every 30 s per node with
//     the "lan" preset, 2 s with "local").
//   - Concurrent writes to the same key (or function) on different
//     nodes are resolved by last-writer-wins on the hybrid logical
//     clock stamp of the write, the larger node name breaking exact
//     ties (Newer). Every node applies the same rule, so all converge
//     to the same value; the losing write is lost. There are no
//     cross-node transactions: compare-and-swap and increment are
//     atomic on the node that runs them only.
//   - Deletes are tombstones that win over older writes. Tombstones are
//     purged by the KV store (and the registry) after a retention.
//     Tombstones stamped longer ago than Config.TombstoneHorizon (half
//     the retention by default) are "settled": push/pull no longer
//     offers them, and a node that lacks the key does not take them.
//     A node cut off for longer than the horizon may therefore keep a
//     value deleted elsewhere, and bring it back to the others once
//     their tombstones are purged: wipe such a node's data before it
//     rejoins.
//   - Expiring keys expire on every node at the same time (the expiry
//     is part of the write); expiries are not replicated.
//
// # Propagation
//
// A change travels in two ways:
//
//   - Gossip. The writer queues a broadcast; memberlist piggybacks it
//     on its gossip packets to a few random peers per round, a bounded
//     number of times (RetransmitMult * log10(N+1); twice that for
//     function records). Every node that applies a change as new
//     queues it again (epidemic relay), so a change reaches the whole
//     cluster in O(log N) rounds. A newer change for the same key
//     replaces an older one still queued.
//   - Push/pull anti-entropy. Periodically each node exchanges state
//     with a random peer over TCP (memberlist's LocalState and
//     MergeRemoteState), and at join. The state holds one Digest
//     (count and order-independent hash of the records) of the function
//     records and one per KV namespace, never the records or the data,
//     so its size does not grow with them. The KV digests count the
//     records stamped before a cutoff ten gossip rounds back, which
//     both sides apply: writes still spreading by gossip would
//     otherwise make a busy namespace differ at every exchange. For
//     every digest that
//     differs the receiver schedules a repair, off memberlist's
//     goroutines: for functions it fetches the peer's record list
//     (GET /v1/internal/functions/) and applies the newer ones; for a
//     namespace it pages through the peer's entry list
//     (GET /v1/internal/kv/{ns}?entries) and pulls the records the
//     peer holds newer (POST /v1/internal/kv/{ns}?records). Repairs
//     only pull; the peer repairs from this node at its own exchange.
//
// A node that joins catches up entirely through the join's push/pull
// and the repairs it triggers.
//
// # Gossip messages
//
// Every message starts with a type byte; the enum is append-only and
// unknown types are ignored:
//
//	1 function record        JSON FunctionRecord (short field names)
//	2 KV change              binary: op, namespace, key, stamp, node, version, expiry, value
//	3 KV announcement        binary: op, namespace, key, stamp, writer, holder, value size;
//	                         receivers pull the record from the holder over HTTP
//	4 function announcement  JSON: name, stamp, writer, holder (a record too large for a packet)
//	5 departure              JSON: node, time (Leave), so that others report "left", not "dead"
//
// A message is at most 1100 bytes (a 1400-byte UDP packet minus
// memberlist's headers and encryption); anything larger is announced.
//
// # Node-to-node HTTP
//
// Handlers returns the routes the admin server mounts under
// /v1/internal/: blobs, function records, KV entry lists and records,
// key operations. Each request is signed with HMAC-SHA256 under a
// secret derived from the keyring (Config.PeerSecret without one)
// over the method, path, raw query, timestamp, a random nonce, the
// sending and the receiving node and the body's hash (PeerAuthHeader),
// and accepted within PeerAuthWindow and once: the receiver keeps the
// nonces it saw within the window in a bounded replay cache
// (replay.go) and refuses anything signed before it started. Anything
// else is 401.
//
// The signature hides nothing. What must stay secret is sealed with the
// keyring before it leaves a node (Seal, Open: AES-256-GCM under a key
// derived from the primary key, opened with any installed key): a
// function's secrets in its record, on gossip and over HTTP alike, and
// the key of a key operation. A capture of the admin network, even of
// valid traffic, reveals neither.
//
// # Owners of keys
//
// A function with affinity has each key served by one node, its owner:
// the rendezvous owner of the key among the alive members that have the
// function installed (FunctionOwner). Each node advertises the functions
// with affinity it has installed in its memberlist metadata (SetServing:
// function -> the instant, in Unix ms of its clock, from which it may
// own their keys). A node still fetching or compiling a function is not
// in the set, so no key is ever owned by a node that cannot serve it.
//
// The hand-over when a node finishes installing: it advertises the
// function with an instant OwnerSettle ahead (2 s local, 3 s lan, 10 s
// wan), and every member counts it as a candidate only from that
// instant. Metadata gossips within a few gossip rounds (tens of
// milliseconds on a LAN), so every member normally holds the
// advertisement well before the instant and all move the keys that
// change owner at the same moment. The node a function was deployed on
// is a candidate at once (no other node has the function then); a node
// restarted, or installing from a peer, waits out the settle time, while
// the others keep the keys.
//
// The hand-over is fenced (handover.go, with the node's Handover hooks):
// at its instant, the taking node T sends every alive member that
// advertises the function a signed POST /v1/internal/takeover/{function}.
// The receiver P counts T as an owner candidate from that moment
// (whatever its metadata says), so it admits no new pinned request for
// a key T owns, then waits until the pinned requests of the function it
// admitted before have finished (the gateway counts them per function;
// a request is counted before it asks who owns its key, and asks again
// once it has a slot; the wait is bounded by the function's timeout plus
// 2 s), and answers. T then repairs the function's namespaces (its own
// and its grants) from P synchronously, pulling every record P holds
// newer. Only when every such member has answered and been repaired from
// is T an owner candidate in its own view; until then T runs no pinned
// request of the function: the node holds them (WaitTakeOver, up to 2 s
// in package node) and then serves them as owner, or, if the fence is
// still up, forwards them to the old owner, which no longer owns those
// T takes and refuses them (503, Retry-After). A
// member that does not answer is asked again every 500 ms until it
// answers or memberlist declares it dead: T keeps refusing rather than
// own keys whose last writes it may not have. A single node (nobody
// else advertises the function) owns its keys at once, as does a
// cluster where no member is past its settle time (all restarted), each
// node then preferring the others over itself before its take-over.
//
// The gateway runs a pinned request only on the node that is the key's
// owner in its own view; any other node forwards it to the owner once,
// and a node that receives a forwarded request it does not own (views
// differ) or cannot reach the owner answers 503 with Retry-After. With
// the fence, a key that moves to a node that finished installing is
// written by the new owner only after the previous owner stopped
// writing it and the new owner holds all it wrote. What is left:
//
//   - two nodes that finish installing at about the same time and
//     neither of which heard of the other's advertisement before its
//     instant (gossip delayed longer than OwnerSettle, a partition):
//     neither fences against the other;
//   - a pinned request that runs past its function's timeout plus 2 s
//     (it cannot: the timeout is a wall-clock limit) or a drain answer
//     lost after the fetch timeout (the taker asks again and drains
//     again);
//   - membership changes other than a graceful leave (a node dies, or
//     is wrongly declared dead and comes back): its keys move without a
//     fence, since a dead node cannot answer, and members see the
//     change at different times, as for Owner; a node suspected but
//     still running may write its keys while another owns them.
//
// A graceful leave is fenced the other way (HandBack, before Leave): the
// leaving node stops owning keys in its own view, drains its pinned
// requests, and asks each peer serving its functions to repair their
// namespaces from it (POST /v1/internal/handback/{function}); only then
// does it leave. A peer that does not answer within the bound is left to
// anti-entropy, and the last writes of the leaving node may then reach
// the new owner after it took the keys.
//
// Within them the key-value store's last-writer-wins still converges;
// only the single-writer guarantee (unique numbers from Increment, a
// conditional put's check, a read-modify-write) can fail. A function's
// removal takes it out of the set at once, as does a failure of its
// node.
//
// # Failure detection
//
// memberlist probes a random peer every ProbeInterval, asks others to
// probe indirectly when it does not answer, then suspects it and
// declares it dead after the suspicion timeout unless it refutes. With
// the "local" preset a dead node is reported in about 1.2 s, with "lan"
// in about 6 s. memberlist raises no event for the suspect state, so
// Members reports alive, dead and left only.
package cluster
