package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/internal/wasmpool"
)

// Entry is how a module is invoked.
type Entry int

const (
	// EntryNative: the module exports wedge_handle and memory.
	EntryNative Entry = iota + 1
	// EntryCGI: the module is a WASI command (_start), served CGI-style.
	EntryCGI
)

func (e Entry) String() string {
	switch e {
	case EntryNative:
		return "native"
	case EntryCGI:
		return "cgi"
	}
	return "none"
}

// Module is a compiled, validated module ready to instantiate. It is
// reference counted: the registry holds one reference, every in-flight
// invocation another; the native code is freed when the last is released.
type Module struct {
	engine   *Engine
	mod      *wasmtime.Module
	pre      *wasmpool.InstancePre       // imports resolved once; nil if unavailable
	code     *Module                     // split (split.go): the shared code instantiated after mod; nil otherwise
	links    int                         // split: code's imports, exported by mod's instance as "0", "1", ...
	whole    atomic.Pointer[wholeModule] // split: the module compiled whole, once ready (split.go)
	upgraded chan struct{}               // split: closed when whole is set or will never be
	SHA256   string
	Entry    Entry
	HasInit  bool
	// HasEvent reports whether the module exports the event entry.
	HasEvent bool
	// FromCache reports whether the native code was loaded from disk.
	FromCache bool

	cached bool // holds its artifact open in the cache (acquire/release)

	refs atomic.Int64
}

// Info describes a module as validation sees it.
type Info struct {
	SHA256   string
	Entry    Entry
	HasInit  bool
	HasEvent bool
	Imports  []string
	Exports  []string
}

// SHA256Hex returns the hex sha256 of b.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Compile validates wasm and returns a Module holding one reference,
// for a function that may have the largest limits (a memory minimum
// above MaxMemoryLimit is refused). See CompileFor.
func (e *Engine) Compile(wasm []byte) (*Module, error) {
	return e.CompileFor(wasm, Limits{MemoryBytes: MaxMemoryLimit})
}

// CompileFor validates wasm for a function with limits lim (zero fields:
// the defaults) and returns a Module holding one reference. Everything
// that can be refused without compiling is refused first, from the
// module's declarations (decls.go, check.go): unknown imports, a missing
// entry point, a memory minimum above lim. Then the native code is
// loaded from an artifact if the cache has one for this content and
// engine, or compiled and stored.
func (e *Engine) CompileFor(wasm []byte, lim Limits) (*Module, error) {
	if len(wasm) == 0 {
		return nil, fmt.Errorf("%w: empty module", ErrInvalidModule)
	}
	if len(wasm) > e.cfg.MaxModuleBytes {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrInvalidModule, len(wasm), e.cfg.MaxModuleBytes)
	}
	info, checked, err := e.precheck(wasm, lim.WithDefaults())
	if err != nil {
		return nil, err
	}
	sum := SHA256Hex(wasm)
	if e.cache != nil && e.cache.has(sum) {
		if m, err := e.load(sum, info); err == nil {
			return m, nil
		}
		// A stale or damaged artifact: compile afresh below.
		e.cache.remove(sum)
	}
	if info != nil && e.sharesCode(wasm) {
		m, err := e.compileSplit(wasm, sum, info)
		if err == nil {
			return m, nil
		}
		slog.Warn("runtime: module with shared code compiled whole", "sha256", sum, "err", err)
	}
	if !checked {
		if err := wasmtime.ModuleValidate(e.engine, wasm); err != nil {
			return nil, fmt.Errorf("%w: %s", ErrInvalidModule, shortError(err))
		}
	}
	e.stats.Compiles.Add(1)
	mod, err := wasmtime.NewModule(e.engine, wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidModule, shortError(err))
	}
	m, err := e.adopt(mod, sum, info)
	if err != nil {
		return nil, err
	}
	if e.cache != nil {
		e.cache.acquire(sum) // before the file exists: a collection never takes it from under m
		m.cached = true
		if art, err := mod.Serialize(); err == nil {
			_ = e.cache.put(sum, art) // a cache failure only costs a recompile later
		}
	}
	return m, nil
}

// precheck reads wasm's declarations and applies the deploy-time rules
// to them, without compiling. It returns the module's description (nil
// when the declarations could not be read: the module is then checked
// after compiling) and whether the engine's validator already passed it.
func (e *Engine) precheck(wasm []byte, lim Limits) (*Info, bool, error) {
	d, err := readDecls(wasm)
	if err != nil {
		// Let the validator say what is wrong; if nothing is, the module
		// uses an encoding readDecls does not know, and the rules run on
		// the compiled module instead.
		if err := wasmtime.ModuleValidate(e.engine, wasm); err != nil {
			return nil, false, fmt.Errorf("%w: %s", ErrInvalidModule, shortError(err))
		}
		return nil, true, nil
	}
	info, err := e.check(d)
	if err != nil {
		return nil, false, err
	}
	if err := e.checkFits(d, lim); err != nil {
		return nil, false, err
	}
	return &info, false, nil
}

// Load returns the module for sum from the artifact cache, or an error if
// it is not cached; the registry uses it at start-up to avoid recompiling.
func (e *Engine) Load(sum string) (*Module, error) {
	if e.cache == nil || !e.cache.has(sum) {
		return nil, errors.New("runtime: no cached artifact")
	}
	return e.load(sum, nil)
}

// load maps the artifact of sum. info describes the module when the
// caller already checked it; nil checks the loaded module.
func (e *Engine) load(sum string, info *Info) (*Module, error) {
	e.cache.acquire(sum) // a collection running now leaves the file alone
	mod, err := wasmtime.NewModuleDeserializeFile(e.engine, e.cache.path(sum))
	if err != nil {
		e.cache.release(sum)
		return nil, err
	}
	m, err := e.adopt(mod, sum, info)
	if err != nil {
		e.cache.release(sum)
		return nil, err
	}
	m.FromCache, m.cached = true, true
	e.stats.CacheLoads.Add(1)
	return m, nil
}

// adopt wraps mod, checking its imports and exports first unless info
// (the description of a module already checked) is given.
func (e *Engine) adopt(mod *wasmtime.Module, sum string, info *Info) (*Module, error) {
	if info == nil {
		i, err := e.check(declsOf(mod))
		if err != nil {
			mod.Close()
			return nil, err
		}
		info = &i
	}
	m := &Module{engine: e, mod: mod, SHA256: sum, Entry: info.Entry, HasInit: info.HasInit, HasEvent: info.HasEvent}
	if pre, err := wasmpool.NewInstancePre(e.linker, mod); err == nil {
		m.pre = pre
	} else {
		// Instantiation still works (through the linker), only slower;
		// counted in Stats and logged, never silent.
		e.stats.NoPre.Add(1)
		if wasmpool.InstancePreErr() == nil { // otherwise NewEngine said so once
			slog.Warn("runtime: module without InstancePre; its instances resolve imports per request", "sha256", sum, "err", err)
		}
	}
	m.refs.Store(1)
	e.stats.LiveModules.Add(1)
	return m, nil
}

// Inspect checks and describes wasm as CompileFor would with default
// limits, without compiling it.
func (e *Engine) Inspect(wasm []byte) (Info, error) {
	info, checked, err := e.precheck(wasm, DefaultLimits())
	if err != nil {
		return Info{}, err
	}
	if !checked {
		if err := wasmtime.ModuleValidate(e.engine, wasm); err != nil {
			return Info{}, fmt.Errorf("%w: %s", ErrInvalidModule, shortError(err))
		}
	}
	if info == nil {
		mod, err := wasmtime.NewModule(e.engine, wasm)
		if err != nil {
			return Info{}, fmt.Errorf("%w: %s", ErrInvalidModule, shortError(err))
		}
		defer mod.Close()
		i, err := e.check(declsOf(mod))
		if err != nil {
			return Info{}, err
		}
		info = &i
	}
	info.SHA256 = SHA256Hex(wasm)
	return *info, nil
}

// Retain adds a reference unless the module is already closed; it reports
// whether it did.
func (m *Module) Retain() bool {
	for {
		n := m.refs.Load()
		if n <= 0 {
			return false
		}
		if m.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Release drops a reference; the last one frees the native code, and
// lets the artifact cache delete the module's artifact if no live version
// uses it any more (cache.go).
func (m *Module) Release() {
	if m.refs.Add(-1) == 0 {
		if m.pre != nil {
			m.pre.Close()
		}
		m.mod.Close()
		if m.code != nil {
			m.code.Release()
		}
		if w := m.whole.Load(); w != nil {
			w.close(m.engine, m.SHA256)
		}
		m.engine.stats.LiveModules.Add(-1)
		if m.cached {
			m.engine.cache.release(m.SHA256)
		}
	}
}

// shortError keeps the first line of an engine error: wasmtime's messages
// carry backtraces and host paths that clients must not see.
func shortError(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(strings.TrimSuffix(s, ":"))
}
