package manifest

// The raw types mirror the file format field for field. Pointers tell an
// absent field from a zero one. The same types decode the TOML file and
// the JSON spec (whose field names are the same), so both go through the
// same validation and report the same field paths.

type rawFile struct {
	// SpecVersion exists only in the JSON spec.
	SpecVersion *int                    `toml:"-" json:"spec_version,omitempty"`
	App         *rawApp                 `toml:"app" json:"app,omitempty"`
	Functions   map[string]*rawFunction `toml:"functions" json:"functions,omitempty"`
	Buckets     map[string]*rawBucket   `toml:"buckets" json:"buckets,omitempty"`
}

type rawApp struct {
	Name        *string `toml:"name" json:"name,omitempty"`
	KVNamespace *string `toml:"kv_namespace" json:"kv_namespace,omitempty"`
}

type rawFunction struct {
	Module       *string           `toml:"module" json:"module,omitempty"`
	Build        *string           `toml:"build" json:"build,omitempty"`
	Routes       []string          `toml:"routes" json:"routes,omitempty"`
	Affinity     *string           `toml:"affinity" json:"affinity,omitempty"`
	Traffic      *int              `toml:"traffic" json:"traffic,omitempty"`
	TrafficKey   *string           `toml:"traffic_key" json:"traffic_key,omitempty"`
	KVNamespace  *string           `toml:"kv_namespace" json:"kv_namespace,omitempty"`
	KVGrants     []string          `toml:"kv_grants" json:"kv_grants,omitempty"`
	AllowedHosts []string          `toml:"allowed_hosts" json:"allowed_hosts,omitempty"`
	Limits       *rawLimits        `toml:"limits" json:"limits,omitempty"`
	Config       map[string]string `toml:"config" json:"config,omitempty"`
	// Secrets values are a string or a table (checked by validation):
	// in TOML "literal" or { env = "NAME" }; in a spec { value = "...",
	// env = "NAME" } with env optional.
	Secrets  map[string]any `toml:"secrets" json:"secrets,omitempty"`
	Triggers []*rawTrigger  `toml:"triggers" json:"triggers,omitempty"`
}

type rawLimits struct {
	Timeout          *string `toml:"timeout" json:"timeout,omitempty"`
	MemoryMB         *int    `toml:"memory_mb" json:"memory_mb,omitempty"`
	MaxConcurrency   *int    `toml:"max_concurrency" json:"max_concurrency,omitempty"`
	MaxResponseBytes *int    `toml:"max_response_bytes" json:"max_response_bytes,omitempty"`
	// Outbound HTTP limits.
	OutboundTimeout          *string `toml:"outbound_timeout" json:"outbound_timeout,omitempty"`
	OutboundMaxResponseBytes *int    `toml:"outbound_max_response_bytes" json:"outbound_max_response_bytes,omitempty"`
	OutboundMaxRequests      *int    `toml:"outbound_max_requests" json:"outbound_max_requests,omitempty"`
}

type rawTrigger struct {
	Kind        *string `toml:"kind" json:"kind,omitempty"`
	Namespace   *string `toml:"namespace" json:"namespace,omitempty"`
	Prefix      *string `toml:"prefix" json:"prefix,omitempty"`
	Bucket      *string `toml:"bucket" json:"bucket,omitempty"`
	Cron        *string `toml:"cron" json:"cron,omitempty"`
	Timezone    *string `toml:"timezone" json:"timezone,omitempty"`
	Queue       *string `toml:"queue" json:"queue,omitempty"`
	BatchSize   *int    `toml:"batch_size" json:"batch_size,omitempty"`
	MaxAttempts *int    `toml:"max_attempts" json:"max_attempts,omitempty"`
	Concurrency *int    `toml:"concurrency" json:"concurrency,omitempty"`
}

type rawBucket struct {
	PublicUpload *string `toml:"public_upload" json:"public_upload,omitempty"`
	MaxObjectMB  *int    `toml:"max_object_mb" json:"max_object_mb,omitempty"`
}
