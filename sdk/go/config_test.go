package wedge

import (
	"strings"
	"testing"

	"github.com/wedge-run/wedge/abi"
)

func TestConfig(t *testing.T) {
	f := newFake()
	f.install(t)
	long := strings.Repeat("v", 5000)
	f.config["GREETING"] = "hello"
	f.config["EMPTY"] = ""
	f.config["LONG"] = long
	if v, ok := Config("GREETING"); !ok || v != "hello" {
		t.Errorf("GREETING = %q, %v", v, ok)
	}
	if v, ok := Config("EMPTY"); !ok || v != "" {
		t.Errorf("EMPTY = %q, %v", v, ok)
	}
	if _, ok := Config("MISSING"); ok {
		t.Error("MISSING found")
	}
	f.calls = nil
	if v, ok := Config("LONG"); !ok || v != long {
		t.Errorf("LONG = %d bytes, %v", len(v), ok)
	}
	if n := f.callsOf(abi.FnConfigGet); n != 2 {
		t.Errorf("config_get x%d for a long value, want 2", n)
	}
	// The grown buffer is reused: a second long read is one call.
	f.calls = nil
	Config("LONG")
	if n := f.callsOf(abi.FnConfigGet); n != 1 {
		t.Errorf("config_get x%d with the grown buffer, want 1", n)
	}
	if v, _ := Config("GREETING"); v != "hello" {
		t.Errorf("GREETING after LONG = %q", v)
	}
	f.failWith[abi.FnConfigGet] = abi.ErrDenied
	if _, ok := Config("GREETING"); ok {
		t.Error("a failing config_get found a value")
	}
}
