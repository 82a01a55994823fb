package node

import (
	"context"
	"errors"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/gateway"
	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/runtime"
)

// openKV opens the key-value store on the node's bbolt file and returns
// the runtime backend, its admin routes and a closer.
func openKV(n *Node) (runtime.KV, []gateway.AdminRoute, func() error, error) {
	st, err := kv.Open(n.DB.Bolt(), kv.Options{NodeID: n.Config.NodeName, Logger: n.Config.Log, OnCommit: n.Events.KVHook})
	if err != nil {
		return nil, nil, nil, err
	}
	n.KV = st
	return kvBackend{st}, gateway.KVRoutes(st), st.Close, nil
}

// kvBackend adapts kv.Store to the runtime's KV interface, translating
// errors into ABI codes. The host calls carry no context yet, so a
// guest's write waits for its group commit with context.Background()
// (the invocation's time limit still bounds the guest).
type kvBackend struct{ s *kv.Store }

func abiCode(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kv.ErrNotFound):
		return abi.ErrNotFound
	case errors.Is(err, kv.ErrKeyTooLarge), errors.Is(err, kv.ErrValueTooLarge):
		return abi.ErrTooLarge
	case errors.Is(err, kv.ErrVersionConflict):
		return abi.ErrConflict
	case errors.Is(err, kv.ErrNotCounter), errors.Is(err, kv.ErrCounterOverflow):
		return abi.ErrNotCounter
	case errors.Is(err, kv.ErrInvalidKey), errors.Is(err, kv.ErrInvalidNamespace),
		errors.Is(err, kv.ErrInvalidCursor), errors.Is(err, kv.ErrInvalidTTL):
		return abi.ErrInvalid
	}
	return abi.ErrInternal
}

func ifVersion(v int64) *uint64 {
	if v < 0 {
		return nil
	}
	u := uint64(v)
	return &u
}

// Guests never reach the node's reserved namespaces (tokens, ACME
// certificates), whatever their grants say ("*" included).

func (b kvBackend) Get(ns, key string) ([]byte, uint64, error) {
	if kv.Reserved(ns) {
		return nil, 0, abi.ErrDenied
	}
	e, err := b.s.Get(ns, key)
	return e.Value, e.Version, abiCode(err)
}

func (b kvBackend) Put(ns, key string, value []byte, ttl time.Duration, ifv int64) (uint64, error) {
	return b.PutTraced("", ns, key, value, ttl, ifv)
}

// PutTraced implements runtime.TracedKV: the write's triggers continue
// the trace of traceparent.
func (b kvBackend) PutTraced(traceparent, ns, key string, value []byte, ttl time.Duration, ifv int64) (uint64, error) {
	if kv.Reserved(ns) {
		return 0, abi.ErrDenied
	}
	e, err := b.s.Put(context.Background(), ns, key, value, kv.PutOptions{TTL: ttl, IfVersion: ifVersion(ifv), Trace: traceparent})
	return e.Version, abiCode(err)
}

func (b kvBackend) Delete(ns, key string, ifv int64) error {
	if kv.Reserved(ns) {
		return abi.ErrDenied
	}
	return abiCode(b.s.Delete(context.Background(), ns, key, ifVersion(ifv)))
}

func (b kvBackend) Increment(ns, key string, delta int64) (int64, error) {
	if kv.Reserved(ns) {
		return 0, abi.ErrDenied
	}
	n, _, err := b.s.Increment(context.Background(), ns, key, delta)
	return n, abiCode(err)
}

func (b kvBackend) List(ns, prefix, cursor string, limit int) ([]string, string, error) {
	if kv.Reserved(ns) {
		return nil, "", abi.ErrDenied
	}
	p, err := b.s.List(ns, kv.ListOptions{Prefix: prefix, Cursor: cursor, Limit: limit, KeysOnly: true})
	if err != nil {
		return nil, "", abiCode(err)
	}
	keys := make([]string, len(p.Entries))
	for i, e := range p.Entries {
		keys[i] = e.Key
	}
	return keys, p.NextCursor, nil
}
