//go:build !wasip1

package wedge

import (
	"errors"
	"testing"
)

// Outside a wasip1 build the event functions report ErrUnsupported, like
// the rest of the SDK.
func TestEventFunctionsWithoutHost(t *testing.T) {
	old := sys
	sys = noHost{}
	t.Cleanup(func() { sys = old })
	if err := Publish("q", nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Publish: %v", err)
	}
	if _, err := (Upload{Bucket: "b", Object: "o"}).ReadAll(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ReadAll: %v", err)
	}
	if rc := serveEvent(sys, 10); rc == 0 {
		t.Error("serveEvent without a host succeeded")
	}
}
