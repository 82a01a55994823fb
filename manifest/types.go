package manifest

import (
	"time"

	"github.com/wedge-run/wedge/abi"
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

// Trigger kinds.
const (
	KindKV       = "kv"       // a key in a namespace changed
	KindUpload   = "upload"   // an object was stored in a bucket
	KindSchedule = "schedule" // a cron schedule fired
	KindQueue    = "queue"    // messages arrived on a queue
)

// Kinds lists the trigger kinds in the order the documentation uses.
var Kinds = []string{KindKV, KindUpload, KindSchedule, KindQueue}

// Defaults applied by Parse and ParseSpec.
const (
	DefaultTimezone    = "UTC"
	DefaultBatchSize   = abi.DefaultBatchSize
	DefaultMaxAttempts = abi.DefaultMaxAttempts
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
	MaxNameLen         = 128           // namespaces, buckets, queues
	MaxPrefixLen       = abi.MaxKeyLen // a kv trigger's key prefix (the kv key limit)
	MaxVariableNameLen = 128           // config keys, secret names, environment variable names
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

// Limits are a function's per-invocation limits. A zero field means the
// node's default.
type Limits struct {
	// Timeout is the wall-clock time limit of one invocation: a whole
	// number of milliseconds, at most MaxTimeout.
	Timeout time.Duration
	// MemoryMB bounds the guest's linear memory, in MiB (1..MaxMemoryMB).
	MemoryMB int
	// MaxConcurrency caps the function's concurrent invocations (0: only
	// the node-wide limit applies).
	MaxConcurrency int
	// MaxResponseBytes bounds a response body (1..MaxResponseBytes).
	MaxResponseBytes int
	// OutboundTimeout bounds one outbound HTTP request (within Timeout
	// anyway); whole milliseconds, at most MaxTimeout.
	OutboundTimeout time.Duration
	// OutboundMaxResponseBytes bounds one outbound response body.
	OutboundMaxResponseBytes int64
	// OutboundMaxRequests bounds the outbound requests of one invocation.
	OutboundMaxRequests int
}

// Trigger is one event source of a function. Only the fields of its Kind
// are set; the others are zero.
type Trigger struct {
	// Kind is one of KindKV, KindUpload, KindSchedule, KindQueue.
	Kind string

	// Namespace (kv) is the namespace watched: by default the function's
	// own. It must be the function's namespace or granted to it.
	Namespace string
	// Prefix (kv) restricts the trigger to keys starting with it; empty
	// watches the whole namespace.
	Prefix string

	// Bucket (upload) is the bucket watched. It need not be declared in
	// [buckets]: an undeclared bucket is implicit, with the node's
	// defaults and no public upload route.
	Bucket string

	// Cron (schedule) is a cron expression: 5 fields (minute hour
	// day-of-month month day-of-week), 6 with seconds first, or a
	// descriptor such as "@hourly" or "@every 10m".
	Cron string
	// Timezone (schedule) is the IANA zone Cron is read in. Default UTC.
	Timezone string

	// Queue (queue) is the queue consumed.
	Queue string
	// BatchSize (queue) is the most messages one invocation receives
	// (1..MaxBatchSize, default DefaultBatchSize).
	BatchSize int
	// MaxAttempts (queue) is how many times a message is delivered before
	// it is dead-lettered (1..MaxMaxAttempts, default DefaultMaxAttempts).
	MaxAttempts int
	// Concurrency (queue) caps the invocations this trigger runs at once
	// (0: no cap beyond the function's and the node's).
	Concurrency int
}

// Bucket is a declared object bucket.
type Bucket struct {
	// Name is the key of [buckets.NAME].
	Name string
	// PublicUpload, if set, is a route on the public gateway that accepts
	// PUT requests storing objects into the bucket (the object key is
	// the rest of the path below the route).
	PublicUpload string
	// MaxObjectMB bounds one object, in MiB (0: the node's default).
	MaxObjectMB int
}

// Function returns the app's function called name.
func (a *App) Function(name string) (*Function, bool) {
	for i := range a.Functions {
		if a.Functions[i].Name == name {
			return &a.Functions[i], true
		}
	}
	return nil, false
}
