package runtime

import (
	"sort"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
)

// LogSink receives every log line of every invocation: WASI stdout and
// stderr (split on newlines) and the ABI's log function.
type LogSink interface {
	Append(function, requestID string, level int32, stream string, line []byte)
}

// KV is the key-value backend the host functions reach. Errors must be
// abi.Code values (or wrap one); anything else reaches the guest as
// abi.ErrInternal. An ifVersion of -1 means unconditional.
type KV interface {
	Get(ns, key string) (value []byte, version uint64, err error)
	Put(ns, key string, value []byte, ttl time.Duration, ifVersion int64) (version uint64, err error)
	Delete(ns, key string, ifVersion int64) error
	Increment(ns, key string, delta int64) (int64, error)
	List(ns, prefix, cursor string, limit int) (keys []string, next string, err error)
}

// Events is the backend of the event host functions. Errors must be
// abi.Code values (anything else reaches the guest as abi.ErrInternal).
type Events interface {
	Publish(queue string, body []byte) error
	ReadObject(function, bucket, name string, offset int64, dst []byte) (int, error)
}

// Env is what every invocation of one deployed function shares: its
// identity, configuration, grants and limits. Build it once per deployed
// version with NewEnv; it is read-only afterwards.
type Env struct {
	Function    string
	Config      map[string]string
	KV          KV
	KVNamespace string
	KVGrants    map[string]bool
	Events      Events
	Logs        LogSink
	Limits      Limits
	// Outbound is the node's HTTP client and OutboundPolicy what this
	// function may reach with it; either nil turns the http_* calls off
	// (-ErrUnsupported).
	Outbound       *outbound.Client
	OutboundPolicy *outbound.Policy

	environ []string // "K=V" for WASI, sorted
}

// NewEnv precomputes what the host functions need.
func NewEnv(function string, config map[string]string, limits Limits) *Env {
	e := &Env{Function: function, Config: config, Limits: limits.WithDefaults(), KVNamespace: function}
	for k, v := range config {
		e.environ = append(e.environ, k+"="+v)
	}
	sort.Strings(e.environ)
	return e
}

// kvNamespace resolves the namespace a guest asked for: "" is the
// function's own; another must be granted.
func (e *Env) kvNamespace(ns string) (string, abi.Code) {
	if ns == "" || ns == e.KVNamespace {
		return e.KVNamespace, abi.OK
	}
	if e.KVGrants[ns] || e.KVGrants["*"] {
		return ns, abi.OK
	}
	return "", abi.ErrDenied
}
