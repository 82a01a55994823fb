package wasmpool

import (
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

// A test binary's build information lists no dependencies, so the
// identity names the wasmtime-go this source requires, the one a built
// wedge binary names (TestLinkNormalBinary checks that a built binary's
// identity names the linked wasmtime-go and its sum): artifacts a test
// compiles into a cache are found by the wedge binaries it starts.
func TestEngineIdentityWithoutBuildInfo(t *testing.T) {
	id := EngineIdentity(PoolConfig{}, "s")
	if want := "wt" + strings.TrimPrefix(requiredWasmtime.Version, "v") + "-"; !strings.HasPrefix(id, want) {
		t.Fatalf("EngineIdentity = %q in a test binary, want the prefix %q", id, want)
	}
	if len(id) < 17 || strings.ContainsAny(id, "/ ") {
		t.Fatalf("EngineIdentity = %q, not a short file-name-safe string", id)
	}
	if got := wasmtimeIn(&debug.BuildInfo{}); got != requiredWasmtime {
		t.Fatalf("no dependencies: %+v, want %+v", got, requiredWasmtime)
	}
	other := &debug.BuildInfo{Deps: []*debug.Module{{Path: "example.com/x", Version: "v1.0.0"}}}
	if got := wasmtimeIn(other); got.Version != "" {
		t.Fatalf("dependencies without wasmtime-go: %+v, want no version", got)
	}
}

// TestRequiredWasmtimeMatchesGoSum keeps the fallback true to go.mod and
// go.sum: upgrading wasmtime-go without updating it fails here.
func TestRequiredWasmtimeMatchesGoSum(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("../../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	req := requiredWasmtime.Path + " " + requiredWasmtime.Version
	if !strings.Contains(string(mod), "\t"+req+"\n") {
		t.Errorf("go.mod does not require %s", req)
	}
	if line := req + " " + requiredWasmtime.Sum + "\n"; !strings.Contains(string(sum), line) {
		t.Errorf("go.sum has no line %q", strings.TrimSpace(line))
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
}
