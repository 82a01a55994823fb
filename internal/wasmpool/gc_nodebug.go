//go:build !debug

package wasmpool

// maybeGC does nothing outside the debug build tag; see gc_debug.go.
func maybeGC() {}

// debugBuild is true under the debug build tag; see gc_debug.go.
const debugBuild = false
