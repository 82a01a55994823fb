// Package manifest owns wedge.toml, the file that describes an app: a set
// of functions deployed together with their routes, triggers, key-value
// namespace and grants, limits, configuration and secrets, plus the
// buckets the app declares.
//
// Parse and Load read the file with a real TOML parser, decode it
// strictly (unknown fields are errors) and validate it. Every problem is
// reported, not just the first, as an *Error naming the file, the line and
// the field ("wedge.toml:14: functions.notify.triggers[0].cron: ..."),
// collected in an *ErrorList sorted by line.
//
// The result, an *App, has every default applied. Spec turns it into the
// canonical JSON document a client sends to a node; ParseSpec is the node
// side, which decodes that document and validates it again with the same
// rules (errors then name fields only: there is no file).
//
// Loading never runs build commands and never reads module files: Check
// verifies the modules once they have been built, and BuildCommand gives
// the command that builds one.
//
// The rules and the types a node deploys are package model's: names,
// routes, affinity patterns, cron expressions and allowed hosts are
// checked by model's validators, Limits, Trigger and Bucket are model's
// types, and App.Model gives the model.AppSpec a node deploys. The
// package imports no server package: parsing a manifest needs no cgo, no
// wasmtime and no bbolt (TestParsesWithoutTheServer).
//
// The package embeds the IANA time zone database (time/tzdata) so that a
// schedule's timezone is validated, and later interpreted, the same way on
// every machine. docs/manifest.md is the reference of the format.
package manifest
