package wedge

import (
	"net/http"
	"testing"
)

// TestWarmUpStaysInside: the warm-up serves its own request through the
// whole SDK path and answers it, without calling the real host and
// without touching the function's handler.
func TestWarmUpStaysInside(t *testing.T) {
	f := newFake()
	f.install(t)
	called := false
	old := currentHandler()
	Handle(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	t.Cleanup(func() {
		handlerMu.Lock()
		handler = old
		handlerMu.Unlock()
	})

	h := &warmHost{head: warmHead()}
	if rc := serveWith(h, func() http.Handler { return warmHandler }, int32(len(h.head)), 0); rc != 0 {
		t.Fatalf("warm request returned %d", rc)
	}
	if want := len("warm GET /warm/path\n"); h.written != want {
		t.Fatalf("warm response body: %d bytes, want %d", h.written, want)
	}
	warmUp()
	if len(f.calls) != 0 {
		t.Fatalf("warm-up called the host: %v", f.calls)
	}
	if called {
		t.Fatal("warm-up ran the function's handler")
	}
}
