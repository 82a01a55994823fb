package model

import (
	"time"
)

// FunctionVersion is the version of a Function record's JSON form
// (field "v"). Records written before the field existed decode as 0 and
// read the same.
const FunctionVersion = 1

// FunctionSpec is what a deploy sets: the description of a function
// apart from its module. The admin API, the manifest (after parsing),
// the stored record and the replicated record all carry it.
type FunctionSpec struct {
	Name string `json:"name"`
	// Routes are the public routes the function serves (ValidateRoute),
	// sorted and without duplicates once stored.
	Routes []string `json:"routes"`
	Limits Limits   `json:"limits"`
	// Config holds plain configuration variables (shown by the API).
	Config map[string]string `json:"config,omitempty"`
	// Secrets are variables whose values are never echoed.
	Secrets  map[string]string `json:"secrets,omitempty"`
	Triggers []Trigger         `json:"triggers,omitempty"`
	// KVNamespace is the function's own namespace (empty: its name).
	KVNamespace string `json:"kv_namespace,omitempty"`
	// KVGrants are the other namespaces it may use ("*": all).
	KVGrants []string `json:"kv_grants,omitempty"`
	// AllowedHosts are the destinations the function's outbound HTTP
	// requests may reach; empty allows none.
	AllowedHosts []string `json:"allowed_hosts,omitempty"`
	// App is the app the function belongs to, if any.
	App string `json:"app,omitempty"`
	// NoSnapshot turns deploy-time pre-initialization off.
	NoSnapshot bool `json:"no_snapshot,omitempty"`
	// Affinity is the path pattern served on one node per key in a
	// cluster (ValidateAffinity).
	Affinity string `json:"affinity,omitempty"`
	// TrafficKey names what keeps a client on one side of a gradual
	// rollout: "header:NAME" or "cookie:NAME" (ValidateTrafficKey);
	// empty splits requests at random.
	TrafficKey string `json:"traffic_key,omitempty"`
}

// Validate checks the spec's name, routes, affinity, limits and
// triggers (allowed hosts are checked by the node's outbound rules).
func (s FunctionSpec) Validate() error {
	if err := ValidateName(s.Name); err != nil {
		return err
	}
	for _, r := range s.Routes {
		if err := ValidateRoute(r); err != nil {
			return err
		}
	}
	if err := ValidateAffinity(s.Affinity, s.Routes); err != nil {
		return err
	}
	if err := s.Limits.Validate(); err != nil {
		return err
	}
	if err := ValidateTrafficKey(s.TrafficKey); err != nil {
		return err
	}
	for _, t := range s.Triggers {
		if err := t.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Snapshot describes a deploy-time pre-initialized module.
type Snapshot struct {
	SHA256       string `json:"sha256"`
	MemoryBytes  int    `json:"memory_bytes"`
	NonZeroBytes int    `json:"nonzero_bytes"`
	Segments     int    `json:"segments"`
	InitMicros   int64  `json:"init_us"` // what every request would have spent in _initialize
}

// The kinds of function (Function.Kind).
const (
	// KindJS is a JavaScript module served on wedge's JavaScript engine.
	KindJS = "js"
	// KindNative is a WebAssembly module with the native entry
	// (wedge_handle).
	KindNative = "native"
	// KindCGI is a WebAssembly WASI command (_start) served CGI-style.
	KindCGI = "cgi"
)

// Script describes the script of a JavaScript function.
type Script struct {
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Function is a deployed function's record: its spec and what the node
// made of it. It is the stored record, the admin API's view (with the
// secrets' values hidden) and, with the secrets sealed, what a cluster
// replicates.
type Function struct {
	// V is FunctionVersion.
	V int `json:"v"`
	FunctionSpec
	Version int64  `json:"version"`
	SHA256  string `json:"sha256"`
	Size    int    `json:"size"`
	// Entry is the entry point the module exports.
	Entry string `json:"entry,omitempty"`
	// Kind is what the function is, for people: KindJS, KindNative or
	// KindCGI (Function.KindOf reads records stored before it was kept).
	Kind string `json:"kind,omitempty"`
	// Script, for a JavaScript function, describes the script deployed
	// (the module, Size and SHA256, is wedge's engine combined with it).
	Script *Script `json:"script,omitempty"`
	// Snapshot, when set, is the pre-initialized module actually served.
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	// Stamp and Origin order changes across a cluster (last writer wins):
	// the hybrid logical clock time of the change and the node that made it.
	Stamp   Stamp     `json:"stamp"`
	Origin  string    `json:"origin,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	VersionInfo
	// Traffic, when between 1 and 99, is the percentage of requests this
	// version serves during a gradual rollout; the rest go to the kept
	// version StableVersion. Zero (and StableVersion zero): all of them.
	Traffic       int   `json:"traffic,omitempty"`
	StableVersion int64 `json:"stable_version,omitempty"`
}

// VersionInfo is the history of one version of a function. Deployed is
// when it was deployed and DeployedBy the name of the admin token that
// deployed it (empty: unknown). A rollback keeps both from the version
// it returns to; RolledBack and RolledBackBy say when it became the
// active version again, and through which token.
type VersionInfo struct {
	Deployed     time.Time `json:"deployed,omitzero"`
	DeployedBy   string    `json:"deployed_by,omitempty"`
	RolledBack   time.Time `json:"rolled_back,omitzero"`
	RolledBackBy string    `json:"rolled_back_by,omitempty"`
	// AppDeploy identifies the app deploy that made this version (its
	// time in Unix nanoseconds; 0: not an app deploy), so that an app
	// rolls back as a unit (registry.RollbackApp).
	AppDeploy int64 `json:"app_deploy,omitempty"`
	// AppRollback marks a record made by an app rollback: a node applies
	// it together with the app's record (App.Rollback), never alone.
	AppRollback bool `json:"app_rollback,omitempty"`
}

// KindOf returns f's kind: Kind, else (a record stored before Kind was
// kept) its entry, which is the kind of every WebAssembly function.
func (f Function) KindOf() string {
	if f.Kind != "" {
		return f.Kind
	}
	if f.Script != nil {
		return KindJS
	}
	return f.Entry
}

// ServedSHA is the sha256 of the module instances are made from.
func (f Function) ServedSHA() string {
	if f.Snapshot != nil {
		return f.Snapshot.SHA256
	}
	return f.SHA256
}

// Redacted returns f with every secret value replaced by "(secret)".
func (f Function) Redacted() Function {
	if len(f.Secrets) > 0 {
		c := make(map[string]string, len(f.Secrets))
		for k := range f.Secrets {
			c[k] = "(secret)"
		}
		f.Secrets = c
	}
	return f
}
