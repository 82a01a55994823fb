// Package abi is the single source of truth for the contract between the
// wedge host and a guest WebAssembly module: the import module name and its
// function names, the exported entry points, the error codes guests see,
// the binary encodings of request and response heads, and the limits.
//
// The host (package runtime) and the guest SDKs are both built from these
// definitions; README.md in this directory is the human-readable
// specification, precise enough to write a guest by hand in WAT.
//
// Everything here is append-only: a released name, number or field layout
// never changes meaning. A breaking change gets a new import module
// (wedge_v2) served alongside the old one.
package abi
