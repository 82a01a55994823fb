package wasmpool

import (
	"errors"
	"strings"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

var (
	// ErrPoolExhausted is wrapped (together with the *wasmtime.Error) into
	// the error InstancePre.Instantiate returns when the pooling allocator
	// has no free instance, memory, table or GC heap slot. The store is
	// unharmed; the request can be retried or shed.
	ErrPoolExhausted = errors.New("wasmpool: pooling allocator exhausted")
	// ErrClosed is returned for an InstancePre after Close, and for
	// wasmtime-go objects that were already closed or consumed.
	ErrClosed = errors.New("wasmpool: object closed")
	// ErrInvalidConfig is wrapped by PoolConfig.Validate and EnablePooling.
	ErrInvalidConfig = errors.New("wasmpool: invalid pool configuration")
	// ErrEngineMismatch is returned when a store of one engine is used with
	// an InstancePre built from another.
	ErrEngineMismatch = errors.New("wasmpool: store and instance pre-image belong to different engines")
	// ErrLayout is wrapped by EnablePooling and NewInstancePre when the
	// linked wasmtime-go's types do not have the layout they were written
	// against (see layout.go). Nothing unsafe runs in that case.
	ErrLayout = errors.New("wasmpool: unexpected wasmtime-go type layout")
)

// poolLimitMessage is how wasmtime (PoolConcurrencyLimitError) words a
// full pool: "maximum concurrent limit of 4 for core instances reached",
// "maximum concurrent limit of 2 for memory stripe 0 reached", and so on
// for tables and GC heaps. The C API offers no typed way to detect it, so
// IsPoolExhausted matches the text; TestPoolExhaustion and
// TestMemoryPoolExhaustion pin the wording for the linked version.
const poolLimitMessage = "maximum concurrent limit of "

// IsPoolExhausted reports whether err says the pooling allocator ran out
// of slots. It recognises errors from InstancePre.Instantiate and also the
// *wasmtime.Error that Linker.Instantiate or wasmtime.NewInstance return
// for the same condition.
func IsPoolExhausted(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrPoolExhausted) {
		return true
	}
	var werr *wasmtime.Error
	return errors.As(err, &werr) && isPoolLimit(werr)
}

func isPoolLimit(werr *wasmtime.Error) bool {
	msg := werr.Error()
	return strings.Contains(msg, poolLimitMessage) && strings.Contains(msg, " reached")
}
