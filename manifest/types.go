package manifest

import (
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/model"
)

// FileName is the manifest's conventional name: Load looks for it when
// given a directory.
const FileName = "wedge.toml"

// MaxFileSize bounds a manifest (and a spec document) in bytes.
const MaxFileSize = 1 << 20

// MaxFields bounds the keys and array elements of a manifest. (The TOML
// decoder's duplicate-key check is quadratic in the number of keys; real
// manifests have a few hundred.)
const MaxFields = 10000

// Trigger kinds (package model's).
const (
	KindKV       = model.KindKV       // a key in a namespace changed
	KindUpload   = model.KindUpload   // an object was stored in a bucket
	KindSchedule = model.KindSchedule // a cron schedule fired
	KindQueue    = model.KindQueue    // messages arrived on a queue
)

// Kinds lists the trigger kinds in the order the documentation uses.
var Kinds = model.Kinds

// Defaults applied by Parse and ParseSpec.
const (
	DefaultTimezone    = model.DefaultTimezone
	DefaultBatchSize   = model.DefaultBatchSize
	DefaultMaxAttempts = model.DefaultMaxAttempts
)

// Ranges enforced by validation. The limits a node enforces are package
// abi's, the one definition the node's checks and docs/manifest.md share.
const (
	MaxTimeout         = abi.MaxTimeout
	MaxMemoryMB        = abi.MaxMemoryMB
	MaxResponseBytes   = abi.MaxMaxResponseBytes
	MaxBatchSize       = abi.MaxBatchSize
	MaxMaxAttempts     = abi.MaxMaxAttempts
	MaxObjectMB        = abi.MaxObjectMB
	MaxNameLen         = model.MaxResourceNameLen // namespaces, buckets, queues
	MaxPrefixLen       = abi.MaxKeyLen            // a kv trigger's key prefix (the kv key limit)
	MaxVariableNameLen = 128                      // config keys, secret names, environment variable names
)

// App is a validated manifest with every default applied.
type App struct {
	// Name is app.name: it tags every function of the app on the node.
	Name string
	// KVNamespace is app.kv_namespace as written (empty when absent): the
	// default namespace of the app's functions. Function.KVNamespace holds
	// the effective namespace of each function.
	KVNamespace string
	// Functions are the app's functions, sorted by name.
	Functions []Function
	// Buckets are the declared buckets, sorted by name. Buckets that
	// upload triggers name without declaring them are not listed.
	Buckets []Bucket
	// Dir is the directory module paths and build commands are relative
	// to: the manifest's directory for Load, as given for Parse, empty
	// for ParseSpec.
	Dir string
	// File is the manifest's path as given to Load or Parse, used in
	// error messages; empty for ParseSpec.
	File string

	pos *positions // nil for ParseSpec
}

// Function is one function of an app.
type Function struct {
	// Name is the key of [functions.NAME]; the function's name on the node.
	Name string
	// Module is the module's path relative to the manifest's directory,
	// with '/' separators, cleaned. App.ModulePath gives the full path.
	Module string
	// Build is a shell command that produces Module, run by the deployer
	// in the manifest's directory (see App.BuildCommand). Empty: none.
	Build string
	// Routes are the public routes the function serves, in the order
	// written.
	Routes []string
	// Affinity is a path pattern ending in /* (e.g. "/api/rooms/*"): in a
	// cluster, requests it matches are served on one node per key, the
	// segment in place of '*'. Empty: any node serves any request.
	Affinity string
	// Traffic, between 1 and 99, deploys the function's new version as a
	// gradual rollout serving that percentage of requests (0: all).
	// TrafficKey ("header:NAME" or "cookie:NAME") keeps each client on
	// one side of it.
	Traffic    int
	TrafficKey string
	// KVNamespace is the function's own namespace: functions.NAME.kv_namespace,
	// else app.kv_namespace, else the function's name.
	KVNamespace string
	// KVGrants are the other namespaces the function may use ("*": all).
	// On the node they also grant reading the objects of buckets so named.
	KVGrants []string
	// AllowedHosts are the destinations of the function's outbound HTTP
	// requests, in canonical form ("https://api.example.com",
	// "https://*.example.org:8443", "http://127.0.0.1:9000"); empty:
	// none (deny by default).
	AllowedHosts []string
	// Limits are the per-invocation limits; zero fields mean the node's
	// defaults.
	Limits Limits
	// Config holds plain configuration variables: the function sees them,
	// and the admin API may echo their names.
	Config map[string]string
	// Secrets holds secret variables: the function sees them like
	// configuration variables, but their values are never echoed.
	Secrets map[string]Secret
	// Triggers are the events that invoke the function, in the order
	// written, with their defaults applied.
	Triggers []Trigger
}

// Limits are a function's per-invocation limits (model.Limits: whole
// milliseconds and bytes). A zero field means the node's default. The
// manifest writes durations ("2s") and memory in MiB; parsing converts.
type Limits = model.Limits

// Trigger is one event source of a function (model.Trigger). Only the
// fields of its Kind are set; parsing applies the defaults (timezone,
// batch size, attempts) and a kv trigger's namespace. An upload
// trigger's bucket need not be declared in [buckets]: an undeclared
// bucket is implicit, with the node's defaults and no public upload
// route.
type Trigger = model.Trigger

// Bucket is a declared object bucket (model.Bucket).
type Bucket = model.Bucket

// Function returns the app's function called name.
func (a *App) Function(name string) (*Function, bool) {
	for i := range a.Functions {
		if a.Functions[i].Name == name {
			return &a.Functions[i], true
		}
	}
	return nil, false
}
