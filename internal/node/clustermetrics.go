package node

import (
	"fmt"
	"io"
)

// writeClusterMetrics renders the cluster's counters for /metrics: who
// is alive, what replication applied and failed, and the bytes gossip
// moved on the wire (what an operator sizes links and spots storms by).
func (n *Node) writeClusterMetrics(w io.Writer) {
	c := n.Cluster
	if c == nil {
		return
	}
	st, tr := c.Stats(), c.Traffic()
	metric := func(kind, name, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, kind, name, v)
	}
	metric("gauge", "wedge_cluster_members_alive", "Alive cluster members, this node included.", st.MembersAlive)
	metric("gauge", "wedge_cluster_broadcast_queue", "Gossip messages waiting to be sent.", st.BroadcastQueue)
	metric("gauge", "wedge_cluster_pending_work", "Replicated changes waiting to be applied or fetched.", st.PendingWork)
	metric("counter", "wedge_cluster_functions_applied_total", "Function records from peers applied here.", st.FunctionsApplied)
	metric("counter", "wedge_cluster_function_errors_total", "Function records from peers that failed to apply.", st.FunctionErrors)
	metric("counter", "wedge_cluster_kv_applied_total", "KV changes from peers that won here.", st.KVApplied)
	metric("counter", "wedge_cluster_kv_errors_total", "KV changes from peers that failed to apply.", st.KVErrors)
	metric("counter", "wedge_cluster_kv_pulled_total", "KV keys pulled from peers over HTTP (values too large for gossip, repairs).", st.KVPulled)
	metric("counter", "wedge_cluster_fetch_errors_total", "Announced records that could not be pulled.", st.FetchErrors)
	metric("counter", "wedge_cluster_blobs_fetched_total", "Modules fetched from peers and verified.", st.BlobsFetched)
	metric("counter", "wedge_cluster_blob_mismatches_total", "Modules from peers rejected for a wrong sha256.", st.BlobMismatches)
	metric("counter", "wedge_cluster_push_pulls_total", "Full-state exchanges merged.", st.PushPulls)
	metric("counter", "wedge_cluster_repairs_total", "KV namespace repairs run.", st.Repairs)
	metric("counter", "wedge_cluster_auth_failures_total", "Peer requests rejected for their signature, replays included.", st.AuthFailures)
	metric("counter", "wedge_cluster_peer_replays_total", "Peer requests rejected as replays (nonce already used, or signed before the replay cache covers).", st.Replays)
	metric("counter", "wedge_cluster_reconnects_total", "Joins to failed members or seeds that succeeded (healed partitions, late seeds).", st.Reconnects)
	fmt.Fprintf(w, "# HELP wedge_gossip_bytes_total Bytes of gossip on the wire (after encryption), by transport and direction.\n# TYPE wedge_gossip_bytes_total counter\n")
	fmt.Fprintf(w, "wedge_gossip_bytes_total{transport=\"udp\",direction=\"sent\"} %d\n", tr.UDPSent)
	fmt.Fprintf(w, "wedge_gossip_bytes_total{transport=\"udp\",direction=\"received\"} %d\n", tr.UDPReceived)
	fmt.Fprintf(w, "wedge_gossip_bytes_total{transport=\"tcp\",direction=\"sent\"} %d\n", tr.TCPSent)
	fmt.Fprintf(w, "wedge_gossip_bytes_total{transport=\"tcp\",direction=\"received\"} %d\n", tr.TCPReceived)
	fmt.Fprintf(w, "# HELP wedge_peer_http_bytes_total Bytes of node-to-node HTTP this node initiated (module fetches, KV pulls, repairs).\n# TYPE wedge_peer_http_bytes_total counter\n")
	fmt.Fprintf(w, "wedge_peer_http_bytes_total{direction=\"sent\"} %d\n", tr.PeerHTTPSent)
	fmt.Fprintf(w, "wedge_peer_http_bytes_total{direction=\"received\"} %d\n", tr.PeerHTTP)
}
