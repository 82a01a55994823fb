package wasmpool

import (
	"runtime/debug"
	"strings"
	"testing"
)

// A test binary's build information lists no dependencies, so the
// identity falls back to an unknown version; TestLinkNormalBinary checks
// that a built binary's identity names the linked wasmtime-go and its sum.
func TestEngineIdentityWithoutBuildInfo(t *testing.T) {
	id := EngineIdentity(PoolConfig{}, "s")
	if wt := LinkedWasmtime(); wt.Version == "" && !strings.HasPrefix(id, "wtunknown-") {
		t.Fatalf("EngineIdentity = %q without a wasmtime-go version", id)
	}
	if len(id) < 17 || strings.ContainsAny(id, "/ ") {
		t.Fatalf("EngineIdentity = %q, not a short file-name-safe string", id)
	}
}

func TestEngineIdentityChangesWithWhatCompiledCodeDependsOn(t *testing.T) {
	wt := WasmtimeModule{Path: wasmtimePkg, Version: "v39.0.1", Sum: "h1:aaa"}
	base := engineIdentity(wt, PoolConfig{}, "epoch,cow,o2")
	if again := engineIdentity(wt, PoolConfig{}, "epoch,cow,o2"); again != base {
		t.Fatalf("identity not stable: %q then %q", base, again)
	}
	if got := engineIdentity(wt, DefaultPoolConfig(), "epoch,cow,o2"); got != base {
		t.Fatalf("zero and default pool configs differ: %q vs %q", got, base)
	}
	// The instance counts and reset settings do not change compiled code.
	pc := PoolConfig{TotalCoreInstances: 7, LinearMemoryKeepResident: 1 << 20}
	if got := engineIdentity(wt, pc, "epoch,cow,o2"); got != base {
		t.Fatalf("pool size changed the identity: %q vs %q", got, base)
	}
	for name, other := range map[string]string{
		"version":     engineIdentity(WasmtimeModule{wasmtimePkg, "v39.0.2", "h1:aaa"}, PoolConfig{}, "epoch,cow,o2"),
		"sum":         engineIdentity(WasmtimeModule{wasmtimePkg, "v39.0.1", "h1:bbb"}, PoolConfig{}, "epoch,cow,o2"),
		"settings":    engineIdentity(wt, PoolConfig{}, "epoch,cow,o0"),
		"reservation": engineIdentity(wt, PoolConfig{MemoryReservation: 1 << 30}, "epoch,cow,o2"),
		"guard":       engineIdentity(wt, PoolConfig{MemoryGuardSize: 64 << 10}, "epoch,cow,o2"),
		"max memory":  engineIdentity(wt, PoolConfig{MaxMemoryBytes: 64 << 20}, "epoch,cow,o2"),
	} {
		if other == base {
			t.Errorf("changing the %s left the identity at %q", name, base)
		}
	}
}

func TestWasmtimeInReadsReplacement(t *testing.T) {
	bi := &debug.BuildInfo{Deps: []*debug.Module{{Path: wasmtimePkg, Version: "v39.0.1", Sum: "h1:x",
		Replace: &debug.Module{Path: "../fork", Version: "v39.0.9", Sum: "h1:y"}}}}
	if got := wasmtimeIn(bi); got.Version != "v39.0.9" || got.Sum != "h1:y" {
		t.Fatalf("wasmtimeIn = %+v, want the replacement's version and sum", got)
	}
	if got := wasmtimeIn(&debug.BuildInfo{}); got.Version != "" {
		t.Fatalf("no wasmtime dep: got %+v", got)
	}
}
