package wasmpool

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"strings"
)

// WasmtimeModule is the wasmtime-go module this binary links, as recorded
// in its build information: path, version and go.sum hash (the version of
// a replacement when the module is replaced). Version and Sum are empty
// when the binary carries no build information.
type WasmtimeModule struct {
	Path, Version, Sum string
}

// requiredWasmtime is the wasmtime-go module this source requires (go.mod
// and go.sum; TestRequiredWasmtimeMatchesGoSum keeps it true). It stands
// in for build information that lists no dependencies: `go test`
// binaries carry none, and without it a test that compiles modules into
// an artifact cache (the benchmark suite's tests precompile for the
// nodes they start) would name them for an unknown engine, and the wedge
// binaries it starts, which do carry build information, would compile
// everything again. Only the file names depend on it: wasmtime itself
// refuses to load an artifact compiled by another version.
var requiredWasmtime = WasmtimeModule{
	Path:    wasmtimePkg,
	Version: "v39.0.1",
	Sum:     "h1:RibaT47yiyCRxMOj/l2cvL8cWiWBSqDXHyqsa9sGcCE=",
}

// LinkedWasmtime returns the wasmtime-go module of this binary's build
// information, or the one this source requires when the build
// information lists no dependencies at all (test binaries).
func LinkedWasmtime() WasmtimeModule {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return WasmtimeModule{Path: wasmtimePkg}
	}
	return wasmtimeIn(bi)
}

func wasmtimeIn(bi *debug.BuildInfo) WasmtimeModule {
	if len(bi.Deps) == 0 {
		return requiredWasmtime
	}
	for _, m := range bi.Deps {
		if m.Path != wasmtimePkg {
			continue
		}
		if m.Replace != nil {
			m = m.Replace
		}
		return WasmtimeModule{Path: m.Path, Version: m.Version, Sum: m.Sum}
	}
	return WasmtimeModule{Path: wasmtimePkg}
}

// layoutIdentity names what this package assumes of wasmtime-go and
// libwasmtime: every wrapper field it reads (layout.go) and the pooling
// configuration layout pagemap.c probes. It changes when those do.
func layoutIdentity() string {
	var b strings.Builder
	for _, s := range layoutSpecs() {
		fmt.Fprintf(&b, "%s.%s=%s;", s.owner, s.field, s.want)
	}
	fmt.Fprintf(&b, "poolcfg=%08x", pagemapLayoutID())
	return b.String()
}

// EngineIdentity returns a short stable name for the code a wasmtime
// engine built by this binary with pc (and the caller's own settings,
// settings) compiles: a hash of the linked wasmtime-go module (version
// and go.sum hash, from the build information), of this package's layout
// assumptions, of the pool settings that change compiled code (memory
// reservation, guard, maximum memory size) and of settings. It keys
// caches of compiled artifacts: an artifact is loadable only by an
// engine of the same identity. The prefix names the wasmtime-go version
// for people reading a cache directory.
func EngineIdentity(pc PoolConfig, settings string) string {
	return engineIdentity(LinkedWasmtime(), pc, settings)
}

func engineIdentity(wt WasmtimeModule, pc PoolConfig, settings string) string {
	pc = pc.WithDefaults()
	resv, guard := pc.reservation()
	h := sha256.New()
	fmt.Fprintf(h, "%s@%s %s\n%s\nresv=%d guard=%d maxmem=%d\n%s",
		wt.Path, wt.Version, wt.Sum, layoutIdentity(), resv, guard, pc.MaxMemoryBytes, settings)
	v := wt.Version
	if v == "" {
		v = "unknown"
	}
	return "wt" + strings.TrimPrefix(v, "v") + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}
