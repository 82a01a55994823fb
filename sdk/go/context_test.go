package wedge

import (
	"net/http/httptest"
	"testing"
)

func TestTraceParent(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if got := TraceParent(r); got != "" {
		t.Fatalf("no header: %q", got)
	}
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	r.Header.Set("traceparent", tp)
	if got := TraceParent(r); got != tp {
		t.Fatalf("TraceParent = %q, want %q", got, tp)
	}
}
