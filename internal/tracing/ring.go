package tracing

import (
	"context"
	"sort"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Ring keeps the spans of the last N traces this node recorded, for the
// admin API (GET /v1/traces) when no exporter is configured. It is an
// OpenTelemetry span processor: ended spans are copied into it. A trace
// is one entry however many spans it has (a bounded number per trace);
// when a span of a new trace arrives and the ring is full, the trace
// seen least recently is dropped.
type Ring struct {
	mu     sync.Mutex
	max    int
	traces map[trace.TraceID]*ringTrace
	seq    uint64
}

// MaxSpansPerTrace bounds one trace's spans in the ring.
const MaxSpansPerTrace = 512

type ringTrace struct {
	id    trace.TraceID
	last  uint64 // seq of the last span added
	spans []SpanRecord
}

// SpanRecord is one finished span as the admin API shows it.
type SpanRecord struct {
	TraceID    string            `json:"trace_id"`
	SpanID     string            `json:"span_id"`
	ParentID   string            `json:"parent_id,omitempty"`
	Name       string            `json:"name"`
	Kind       string            `json:"kind"`
	Start      time.Time         `json:"start"`
	End        time.Time         `json:"end"`
	DurationUS int64             `json:"duration_us"`
	Error      string            `json:"error,omitempty"`
	Node       string            `json:"node,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// TraceSummary lists one trace of the ring.
type TraceSummary struct {
	TraceID    string    `json:"trace_id"`
	Root       string    `json:"root"` // the name of its earliest span
	Start      time.Time `json:"start"`
	DurationUS int64     `json:"duration_us"`
	Spans      int       `json:"spans"`
	Error      bool      `json:"error,omitempty"`
}

// NewRing makes a ring of n traces.
func NewRing(n int) *Ring { return &Ring{max: n, traces: map[trace.TraceID]*ringTrace{}} }

// OnStart implements sdktrace.SpanProcessor.
func (r *Ring) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd implements sdktrace.SpanProcessor.
func (r *Ring) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	rec := SpanRecord{
		TraceID: s.SpanContext().TraceID().String(), SpanID: s.SpanContext().SpanID().String(),
		Name: s.Name(), Kind: s.SpanKind().String(), Start: s.StartTime(), End: s.EndTime(),
		DurationUS: s.EndTime().Sub(s.StartTime()).Microseconds(),
	}
	if p := s.Parent(); p.IsValid() {
		rec.ParentID = p.SpanID().String()
	}
	if st := s.Status(); st.Code == 1 { // codes.Error
		rec.Error = st.Description
		if rec.Error == "" {
			rec.Error = "error"
		}
	}
	if attrs := s.Attributes(); len(attrs) > 0 {
		rec.Attributes = make(map[string]string, len(attrs))
		for _, a := range attrs {
			rec.Attributes[string(a.Key)] = a.Value.Emit()
		}
	}
	for _, a := range s.Resource().Attributes() {
		if a.Key == "service.instance.id" {
			rec.Node = a.Value.AsString()
		}
	}
	id := s.SpanContext().TraceID()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	t := r.traces[id]
	if t == nil {
		if len(r.traces) >= r.max {
			r.evict()
		}
		t = &ringTrace{id: id}
		r.traces[id] = t
	}
	t.last = r.seq
	if len(t.spans) < MaxSpansPerTrace {
		t.spans = append(t.spans, rec)
	}
}

// evict drops the trace seen least recently; r.mu is held. O(n) over at
// most max traces, once per new trace when full.
func (r *Ring) evict() {
	var old *ringTrace
	for _, t := range r.traces {
		if old == nil || t.last < old.last {
			old = t
		}
	}
	if old != nil {
		delete(r.traces, old.id)
	}
}

// Shutdown implements sdktrace.SpanProcessor.
func (r *Ring) Shutdown(context.Context) error { return nil }

// ForceFlush implements sdktrace.SpanProcessor.
func (r *Ring) ForceFlush(context.Context) error { return nil }

// List returns the ring's traces, most recent first.
func (r *Ring) List() []TraceSummary {
	r.mu.Lock()
	ts := make([]*ringTrace, 0, len(r.traces))
	for _, t := range r.traces {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].last > ts[j].last })
	out := make([]TraceSummary, 0, len(ts))
	for _, t := range ts {
		out = append(out, summarize(t))
	}
	r.mu.Unlock()
	return out
}

func summarize(t *ringTrace) TraceSummary {
	s := TraceSummary{TraceID: t.id.String(), Spans: len(t.spans)}
	var end time.Time
	for i, sp := range t.spans {
		if i == 0 || sp.Start.Before(s.Start) {
			s.Start, s.Root = sp.Start, sp.Name
		}
		if sp.End.After(end) {
			end = sp.End
		}
		if sp.Error != "" {
			s.Error = true
		}
	}
	s.DurationUS = end.Sub(s.Start).Microseconds()
	return s
}

// Get returns the spans of the trace with hex id, by start time; ok is
// false when the ring does not hold it.
func (r *Ring) Get(id string) ([]SpanRecord, bool) {
	tid, err := trace.TraceIDFromHex(id)
	if err != nil {
		return nil, false
	}
	r.mu.Lock()
	t := r.traces[tid]
	var spans []SpanRecord
	if t != nil {
		spans = append(spans, t.spans...)
	}
	r.mu.Unlock()
	if t == nil {
		return nil, false
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start.Before(spans[j].Start) })
	return spans, true
}
