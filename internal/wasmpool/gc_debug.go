//go:build debug

package wasmpool

import "runtime"

// maybeGC collects garbage after every handle read when built with the
// debug tag, the same tag under which wasmtime-go does so (see its
// maybe_gc_actual.go). A missing runtime.KeepAlive then frees a handle
// while C still uses it, and the tests crash instead of passing by luck.
func maybeGC() { runtime.GC() }

// debugBuild lets tests scale their loops down: a GC per handle read makes
// every wasmtime call cost milliseconds.
const debugBuild = true
