package runtime

import (
	"context"
	"errors"
	"time"

	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/tracing"
)

// TracedKV is implemented by a KV backend that records the trace context
// of a write, so that the triggers it fires continue the trace. The host
// calls it instead of Put only for a traced invocation.
type TracedKV interface {
	PutTraced(traceparent, ns, key string, value []byte, ttl time.Duration, ifVersion int64) (version uint64, err error)
}

// TracedEvents is the same for Events.Publish.
type TracedEvents interface {
	PublishTraced(traceparent, queue string, body []byte) error
}

// hostSpan starts the span of a host call that does I/O, under the
// invocation's span; an untraced call (c.Trace nil) gets the zero Span
// without allocating.
// target is a+sep+b (a KV namespace and key, a method and URL), joined
// only when traced.
func (c *Call) hostSpan(name, a, sep, b string) (context.Context, tracing.Span) {
	if c.Trace == nil {
		return nil, tracing.Span{}
	}
	return tracing.Child(c.Trace, name, tracing.KindClient,
		tracing.String("wedge.function", c.Env.Function), tracing.String("wedge.target", a+sep+b))
}

// end ends s, marking it failed with err.
func endSpan(s tracing.Span, err error) {
	if err != nil {
		s.Fail(err)
	}
	s.End()
}

// kvSpanErr is err unless it is a missing key, which is an answer, not a
// failure, for a read.
func kvSpanErr(err error) error {
	if errors.Is(err, abi.ErrNotFound) {
		return nil
	}
	return err
}
