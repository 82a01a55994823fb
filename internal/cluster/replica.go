package cluster

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/wedge-run/wedge/internal/hlc"
	"github.com/wedge-run/wedge/internal/kv"
)

// Newer reports whether a write stamped (stamp, node) replaces one
// stamped (than, thanNode) under last-writer-wins: the later hybrid
// logical clock stamp wins, and on equal stamps the larger node name.
// It is the rule kv.Store.ApplyRemote applies; registries use it for
// function records.
func Newer(stamp hlc.Timestamp, node string, than hlc.Timestamp, thanNode string) bool {
	if c := stamp.Compare(than); c != 0 {
		return c > 0
	}
	return node > thanNode
}

// FunctionRecord is one function as the cluster replicates it: small,
// gossiped whole. The module bytes never ride on gossip: a node that
// lacks the blob fetches it by SHA256 (Cluster.FetchBlob).
type FunctionRecord struct {
	// Name is the function name.
	Name string
	// SHA256 is the lower-case hex sha256 of the module (the blob id).
	SHA256 string
	// Spec is the registry's description of the deployment (routes,
	// limits, config...): opaque to the cluster. Keep it small: a record
	// that does not fit one gossip packet (about 1 KB encoded) is
	// announced and pulled over HTTP instead.
	Spec []byte
	// Deleted makes the record a tombstone: the function was removed.
	Deleted bool
	// Stamp is the hybrid logical clock time of the change.
	Stamp hlc.Timestamp
	// Node is the name of the node that made the change; it holds the
	// blob.
	Node string
}

// Newer reports whether r replaces o under last-writer-wins.
func (r FunctionRecord) Newer(o FunctionRecord) bool {
	return Newer(r.Stamp, r.Node, o.Stamp, o.Node)
}

// Registry is the function registry as the cluster sees it.
//
// Records returns every record the node holds, tombstones included. It
// is called on every push/pull exchange (both sides), so it must be
// cheap: a snapshot, not a database scan.
//
// ApplyRemote takes a record received from another node. It must:
//   - merge the record's Stamp into the registry's hybrid logical
//     clock, so that later local changes order after it;
//   - ignore it (return nil) unless it is Newer than the record held
//     for the name, tombstones included;
//   - for a live record, obtain the blob if it is not stored yet,
//     normally with Cluster.FetchBlob(ctx, rec.SHA256,
//     []string{rec.Node}), then validate, compile, persist and publish
//     it; for a tombstone, unpublish the function and keep the
//     tombstone (for at least the tombstone retention, which must
//     exceed Config.TombstoneHorizon);
//   - return an error if it could not apply a newer record: the cluster
//     logs it and tries again at a later push/pull.
//
// The cluster never calls ApplyRemote concurrently for the same name;
// it may for different names. It calls it off memberlist's goroutines,
// so ApplyRemote may block (on a fetch, on compilation), within reason.
type Registry interface {
	Records() []FunctionRecord
	ApplyRemote(rec FunctionRecord) error
}

// EntryMeta describes one record of a KV namespace without its value:
// what anti-entropy compares.
type EntryMeta struct {
	Key     string
	Stamp   hlc.Timestamp
	Node    string
	Deleted bool // a tombstone
}

// Digest summarizes a namespace's records so that two nodes can tell
// cheaply whether they hold the same ones. Hash is the XOR over the
// records of EntryHash(key, stamp, node), so it does not depend on
// order and can be maintained incrementally (Add a record when it
// appears, Remove it when it is replaced); Count is the number of
// records.
type Digest struct {
	Count uint64
	Hash  [16]byte
}

// EntryHash is the contribution of one record to a Digest: the first
// 16 bytes of sha256(uvarint(len(key)) || key || stamp (12 bytes, hlc
// binary encoding) || node). Tombstones and live values hash alike:
// what identifies a record is the write (key, stamp, node).
func EntryHash(key string, stamp hlc.Timestamp, node string) [16]byte {
	h := sha256.New()
	var buf [binary.MaxVarintLen64 + hlc.EncodedLen]byte
	b := binary.AppendUvarint(buf[:0], uint64(len(key)))
	h.Write(b)
	h.Write([]byte(key))
	h.Write(stamp.Append(buf[:0]))
	h.Write([]byte(node))
	var sum [sha256.Size]byte
	var out [16]byte
	copy(out[:], h.Sum(sum[:0]))
	return out
}

// Add counts a record in d.
func (d *Digest) Add(key string, stamp hlc.Timestamp, node string) {
	d.xor(EntryHash(key, stamp, node))
	d.Count++
}

// Remove takes a record counted by Add out of d.
func (d *Digest) Remove(key string, stamp hlc.Timestamp, node string) {
	d.xor(EntryHash(key, stamp, node))
	d.Count--
}

func (d *Digest) xor(h [16]byte) {
	for i := range h {
		d.Hash[i] ^= h[i]
	}
}

// DigestOf returns the digest of entries.
func DigestOf(entries []EntryMeta) Digest {
	var d Digest
	for _, e := range entries {
		d.Add(e.Key, e.Stamp, e.Node)
	}
	return d
}

// KVReplica is the key-value store as the cluster replicates it. Its
// methods are safe for concurrent use. StoreReplica implements it on a
// kv.Store.
//
// Selection. A namespace's replicated records are its live values and
// its tombstones (deleted keys, and expired values turned into
// tombstones by the purge, which keep the value's stamp), except the
// settled tombstones: those whose Stamp is before the horizon argument.
// Digests and Entries must select exactly the same records. A value
// past its expiry that is not purged yet may be counted as live or not,
// but the same way in both methods on every node.
//
// Digests returns, for every namespace that has at least one selected
// record stamped before cutoff, the Digest of those records (see Digest
// and EntryHash); a zero cutoff counts every selected record. The
// cutoff leaves out writes that may still be on their way by gossip, so
// that a namespace being written does not look different at every
// exchange; Entries ignores it. Namespaces with none may be left out.
// It is called on every push/pull exchange: keep it cheap (maintain
// digests incrementally, or cache them).
//
// Entries returns up to limit selected records of namespace ns whose
// keys sort (bytewise) strictly after after ("" starts at the first
// key), in ascending key order, and more=true if selected records
// remain after the last one returned. An unknown namespace has no
// entries (not an error).
//
// Export returns the record held for (ns, key), settled or not, as a
// change: Op kv.OpPut with Value, Expires, Stamp, Node and NewVersion
// (the key's version) for a live value; Op kv.OpDelete with Stamp and
// Node for a tombstone. No record at all: an error wrapping
// kv.ErrNotFound. Export is also served to peers that pull a value.
//
// Apply merges a change from another node by last-writer-wins (see
// Newer), tombstones included, and reports whether it won; it is
// kv.Store.ApplyRemote. A losing or duplicate change is not an error.
type KVReplica interface {
	Digests(horizon, cutoff hlc.Timestamp) (map[string]Digest, error)
	Entries(ns, after string, limit int, horizon hlc.Timestamp) (entries []EntryMeta, more bool, err error)
	Export(ns, key string) (kv.Change, error)
	Apply(c kv.Change) (applied bool, err error)
}
