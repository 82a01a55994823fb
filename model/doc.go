// Package model is wedge's description of what a node serves: a
// function (FunctionSpec, its Limits and Triggers, and the deployed
// record Function), an app (AppSpec, its Buckets, and the deployed
// record App), the hybrid logical clock Stamp that orders their changes
// across a cluster, and the rules they obey (ValidateName,
// ValidateRoute, ValidateAffinity, ParseCron, the Validate methods).
//
// The types are also the one JSON form of these records, in snake_case:
// the admin API answers with them, the client decodes them, storage
// keeps them in bbolt and the cluster gossips them. Records carry a
// schema version ("v"); decoding stays tolerant of the versions before
// it (see the types' comments). The manifest package parses wedge.toml
// into these types.
//
// The package imports the standard library, package abi (the limits'
// ranges) and the cron parser only: a program that parses a manifest or
// talks to the admin API links no wasmtime, no cgo and no bbolt.
package model
