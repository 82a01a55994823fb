package runtime

import (
	"errors"
	"fmt"
	"sync"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/internal/snapshot"
)

// PreinitOptions adjust a pre-initialization.
//
// They exist for modules that share their code and differ only in data,
// such as wedge's JavaScript engine combined with one script after
// another (package js): pre-initializing the shared module with the data
// as a Trailer, and keeping its instrumented compilation, leaves one
// compilation per deploy (the snapshot's) instead of two.
type PreinitOptions struct {
	// Trailer, if not empty, is written before _initialize runs so that it
	// ends exactly at the end of the memory, after growing the memory by
	// as many 64 KiB pages as needed to hold twice its length plus 1 KiB:
	// the memory is then what a module with that larger minimum and a data
	// segment holding Trailer there would start with.
	Trailer []byte
	// KeepCompiled keeps the instrumented module's compilation in memory
	// for the next pre-initialization of the same bytes, instead of
	// compiling it again (the on-disk artifact cache, when it collects,
	// does not keep instrumented modules).
	KeepCompiled bool
}

// TrailerPages is how many pages a Trailer of n bytes adds to the memory.
func TrailerPages(n int) uint64 {
	need := uint64(n)*2 + 1024
	return (need + 65535) / 65536
}

// appendTrailer writes t at the end of the instance's memory after
// growing it (PreinitOptions.Trailer).
func appendTrailer(store *wasmtime.Store, inst *wasmtime.Instance, t []byte) error {
	if len(t) == 0 {
		return nil
	}
	ext := inst.GetExport(store, snapshot.MemoryExport)
	if ext == nil || ext.Memory() == nil {
		return errors.New("trailer: the module has no memory")
	}
	mem := ext.Memory()
	if _, err := mem.Grow(store, TrailerPages(len(t))); err != nil {
		return fmt.Errorf("trailer: growing memory: %s", shortError(err))
	}
	data := mem.UnsafeData(store)
	copy(data[len(data)-len(t):], t)
	return nil
}

// keptModules holds compilations of instrumented modules kept by
// PreinitOptions.KeepCompiled, by sha256; at most maxKept, oldest
// dropped first (and closed by its finalizer, as a deploy may still be
// using it).
type keptModules struct {
	mu    sync.Mutex
	order []string
	mods  map[string]*wasmtime.Module
}

const maxKept = 2

// compileInstrumented compiles (or loads) an instrumented module; with
// keep, it is taken from and left in e.kept. release ends the caller's
// use.
func (e *Engine) compileInstrumented(wasm []byte, keep bool) (*wasmtime.Module, func(), error) {
	if !keep {
		mod, release, err := e.compileCached(wasm)
		if err != nil {
			return nil, nil, err
		}
		return mod, func() { release(); mod.Close() }, nil
	}
	sum := SHA256Hex(wasm)
	k := &e.kept
	k.mu.Lock()
	if m := k.mods[sum]; m != nil {
		k.mu.Unlock()
		return m, func() {}, nil
	}
	k.mu.Unlock()
	mod, release, err := e.compileCached(wasm)
	if err != nil {
		return nil, nil, err
	}
	release() // the kept module needs no artifact: it is compiled in memory, or mapped from a file the cache never rewrites
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.mods == nil {
		k.mods = map[string]*wasmtime.Module{}
	}
	if m := k.mods[sum]; m != nil {
		mod.Close()
		return m, func() {}, nil
	}
	k.mods[sum] = mod
	k.order = append(k.order, sum)
	if len(k.order) > maxKept {
		delete(k.mods, k.order[0])
		k.order = k.order[1:]
	}
	return mod, func() {}, nil
}
