package runtime

import (
	"testing"

	"github.com/wedge-run/wedge/internal/tracing"
)

// TestUntracedSpansAllocateNothing: with tracing off (Call.Trace nil) the
// span helpers on the invoke path and in every host call allocate
// nothing; traced, they do record a span (so the check is not vacuous).
func TestUntracedSpansAllocateNothing(t *testing.T) {
	c := &Call{Env: NewEnv("f", nil, Limits{})}
	ns, key := "f", "some-key"
	off := func() {
		_, sp := c.hostSpan("kv.get", ns, "/", key)
		endSpan(sp, nil)
		_, isp := tracing.Child(c.Trace, "instantiate", tracing.KindInternal)
		isp.End()
	}
	if n := testing.AllocsPerRun(200, off); n != 0 {
		t.Fatalf("untraced span helpers: %v allocs per run, want 0", n)
	}
	var p *tracing.Provider
	if n := testing.AllocsPerRun(200, func() {
		_, sp := p.Start(nil, "wedge.request", tracing.KindServer)
		sp.End()
		_, w := p.StartAt(nil, "admission", c.deadline)
		w.End()
	}); n != 0 {
		t.Fatalf("nil provider: %v allocs per run, want 0", n)
	}
	p, err := tracing.New(tracing.Config{Sample: 1, RingTraces: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown()
	ctx, root := p.Start(nil, "wedge.request", tracing.KindServer)
	c.Trace = ctx
	_, sp := c.hostSpan("kv.get", ns, "/", key)
	if !sp.Traced() {
		t.Fatal("a traced call's host span records nothing")
	}
	sp.End()
	root.End()
	spans, ok := p.Ring().Get(tracing.TraceID(ctx))
	if !ok || len(spans) != 2 || spans[1].Attributes["wedge.target"] != "f/some-key" || spans[1].ParentID != spans[0].SpanID {
		t.Fatalf("ring holds %+v", spans)
	}
}
