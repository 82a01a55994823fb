// Package hlc implements a hybrid logical clock (HLC).
//
// A hybrid logical clock combines a physical wall clock, read in
// milliseconds, with a logical counter. Its timestamps
//
//   - never go backwards on one node, even when the wall clock does;
//   - stay close to physical time, so they can be read as dates;
//   - respect causality across nodes: after [Clock.Update] with a
//     timestamp received from another node, every timestamp the local
//     clock issues is greater than the received one.
//
// [Timestamp] is model.Stamp: the type, its order, its binary encoding
// and its JSON form ({"wall": ms, "logical": n}) live in package model
// with the records that carry them; this package issues them.
//
// wedge stamps every key-value write with a [Timestamp] and resolves
// concurrent writes on different nodes by comparing timestamps
// (last-writer-wins), breaking the rare exact tie by node id.
//
// # Ordering
//
// Timestamps are ordered by Wall, then by Logical. [Timestamp.Compare]
// implements that order, and the binary encoding (see below) preserves
// it byte-wise, so encoded timestamps can also be compared with
// bytes.Compare or used as sortable keys.
//
// # Binary encoding
//
// A timestamp encodes to exactly [EncodedLen] (12) bytes:
//
//	bytes 0..7   Wall, milliseconds since the Unix epoch, big-endian uint64
//	bytes 8..11  Logical, big-endian uint32
//
// Timestamps before the Unix epoch (negative Wall) cannot be encoded.
//
// # Clock skew
//
// The clock trusts the timestamps it is given: a remote timestamp far in
// the future moves the local clock forward with it, and the clock then
// advances its logical counter until the wall clock catches up. When the
// logical counter would overflow, the clock moves Wall forward by one
// millisecond, so timestamps stay strictly increasing in all cases.
package hlc
