// Package registry owns the set of functions a node serves: deploying a
// module (validate, compile, persist, publish), deleting one, loading them
// all at start-up from storage and the artifact cache, and the route table
// that maps a request path to a function. It tells the engine which
// compiled artifacts its live versions use, so that the rest are
// collected (artifacts.go).
//
// The live set is an immutable table behind an atomic pointer: a request
// reads it without locks, a deploy builds a new table and swaps it in.
// Requests already running keep the version they started with (each holds
// a reference on its module); new requests see the new version; none fail.
//
// Changes replicated from other nodes carry their stamp (DeployRequest.Stamp,
// DeleteStamped) and apply by last-writer-wins against the live version and
// the function's tombstone, checked under the registry's lock at the moment
// they apply: a replicated version found newer on arrival may lose to a
// local change made while its module was fetched and compiled
// (ErrSuperseded).
//
// Apps: DeployApp stores an app's functions, the removal of those it no
// longer lists and its record (model.App: function names and buckets, whose
// public upload routes the gateway serves) in one storage transaction and
// publishes them in one swap; the record replicates like a function's.
//
// Versions (versions.go): each function's kept versions are a storage
// bucket; a rollback deploys a kept record again under its own number.
// The list travels with the function's record, so every node keeps the
// same versions, and a node that lacks a version's module fetches it from
// a peer. RollbackApp is one change for the whole app: the functions'
// records and an app record naming their versions (model.App.Rollback),
// one stamp, one commit; peers apply it from the app record in one swap.
//
// Replication (replication.go) is the registry as the cluster sees it
// (cluster.Registry): the records of its functions (spec and sealed
// secrets), apps (under the name "app:NAME") and tombstones, built once
// per change and shared until the next, and the application of records
// from peers (fetch the blob, compile, deploy with the record's stamp).
//
// Names, routes, affinity patterns, limits and triggers are checked by
// package model's validators; the registry adds what needs the node
// (route conflicts, the module's compilation).
package registry
