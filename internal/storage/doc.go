// Package storage owns the node's bbolt file (<data>/wedge.db): deployed
// function records, module blobs addressed by sha256, and the handle that
// other packages (the key-value store) use for their own buckets.
//
// Layout:
//
//	functions   name   -> JSON Function record
//	blobs       sha256 -> module bytes (shared by every version that has them)
//	meta        "node" -> JSON node identity
//
// Every change is one bbolt transaction: a deploy writes the blob and the
// record together, so a crash leaves either the old version or the new one,
// never a record without its blob.
package storage
