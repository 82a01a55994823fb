// Package storage owns the node's bbolt file (<data>/wedge.db): deployed
// function and app records (package model's types, in their JSON form),
// module blobs addressed by sha256, tombstones, and the handle that other
// packages (the key-value store) use for their own buckets.
//
// Layout:
//
//	functions            name      -> JSON model.Function
//	apps                 name      -> JSON model.App (its functions' names, its buckets)
//	function-tombstones  name      -> JSON Tombstone of a deleted function
//	                     app:NAME  -> JSON Tombstone of a deleted app
//	function-versions    name 0x00 version -> JSON model.Function as deployed (the kept
//	                     versions, versions.go; those a peer keeps arrive without blobs)
//	blobs                sha256    -> module bytes (shared by every version that has them)
//	meta                 "node"    -> JSON node identity
//
// Every change is one bbolt transaction: a deploy writes the blob and the
// record together, and an app deploy (Commit) writes every function of
// the app, the removal of the ones it dropped and the app's record
// together, so a crash leaves either the old app or the new one, never a
// record without its blob or an app without its buckets.
//
// Records of earlier versions load as they are (decodeFunction); the app
// buckets earlier versions kept under meta "app-buckets/NAME" become app
// records at start-up (MigrateLegacyApps).
package storage
