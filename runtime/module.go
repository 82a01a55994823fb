package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/abi"
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
	engine  *Engine
	mod     *wasmtime.Module
	pre     *wasmpool.InstancePre // imports resolved once; nil if unavailable
	SHA256  string
	Entry   Entry
	HasInit bool
	// HasEvent reports whether the module exports the event entry.
	HasEvent bool
	// FromCache reports whether the native code was loaded from disk.
	FromCache bool

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

// Compile validates wasm and returns a Module holding one reference. With
// a cache directory, native code is loaded from an artifact if one exists
// for this content and engine, and stored after compiling otherwise.
func (e *Engine) Compile(wasm []byte) (*Module, error) {
	if len(wasm) == 0 {
		return nil, fmt.Errorf("%w: empty module", ErrInvalidModule)
	}
	if len(wasm) > e.cfg.MaxModuleBytes {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrInvalidModule, len(wasm), e.cfg.MaxModuleBytes)
	}
	sum := SHA256Hex(wasm)
	if e.cache != nil && e.cache.has(sum) {
		if m, err := e.load(sum); err == nil {
			return m, nil
		}
		// A stale or damaged artifact: compile afresh below.
		e.cache.remove(sum)
	}
	if err := wasmtime.ModuleValidate(e.engine, wasm); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidModule, shortError(err))
	}
	mod, err := wasmtime.NewModule(e.engine, wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidModule, shortError(err))
	}
	m, err := e.adopt(mod, sum)
	if err != nil {
		return nil, err
	}
	e.stats.Compiles.Add(1)
	if e.cache != nil {
		if art, err := mod.Serialize(); err == nil {
			_ = e.cache.put(sum, art) // a cache failure only costs a recompile later
		}
	}
	return m, nil
}

// Load returns the module for sum from the artifact cache, or an error if
// it is not cached; the registry uses it at start-up to avoid recompiling.
func (e *Engine) Load(sum string) (*Module, error) {
	if e.cache == nil || !e.cache.has(sum) {
		return nil, errors.New("runtime: no cached artifact")
	}
	return e.load(sum)
}

func (e *Engine) load(sum string) (*Module, error) {
	mod, err := wasmtime.NewModuleDeserializeFile(e.engine, e.cache.path(sum))
	if err != nil {
		return nil, err
	}
	m, err := e.adopt(mod, sum)
	if err != nil {
		return nil, err
	}
	m.FromCache = true
	e.stats.CacheLoads.Add(1)
	return m, nil
}

// adopt checks imports and exports and wraps mod.
func (e *Engine) adopt(mod *wasmtime.Module, sum string) (*Module, error) {
	info, err := e.inspect(mod)
	if err != nil {
		mod.Close()
		return nil, err
	}
	m := &Module{engine: e, mod: mod, SHA256: sum, Entry: info.Entry, HasInit: info.HasInit, HasEvent: info.HasEvent}
	if pre, err := wasmpool.NewInstancePre(e.linker, mod); err == nil {
		m.pre = pre
	}
	m.refs.Store(1)
	e.stats.LiveModules.Add(1)
	return m, nil
}

// Inspect validates and describes wasm without keeping it.
func (e *Engine) Inspect(wasm []byte) (Info, error) {
	if err := wasmtime.ModuleValidate(e.engine, wasm); err != nil {
		return Info{}, fmt.Errorf("%w: %s", ErrInvalidModule, shortError(err))
	}
	mod, err := wasmtime.NewModule(e.engine, wasm)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %s", ErrInvalidModule, shortError(err))
	}
	defer mod.Close()
	info, err := e.inspect(mod)
	info.SHA256 = SHA256Hex(wasm)
	return info, err
}

func (e *Engine) inspect(mod *wasmtime.Module) (Info, error) {
	var info Info
	var unknown []string
	for _, imp := range mod.Imports() {
		name := ""
		if imp.Name() != nil {
			name = *imp.Name()
		}
		full := imp.Module() + "." + name
		info.Imports = append(info.Imports, full)
		if why := e.checkImport(imp.Module(), name, imp.Type()); why != "" {
			unknown = append(unknown, full+" ("+why+")")
		}
	}
	if len(unknown) > 0 {
		return info, fmt.Errorf("%w: %s", ErrUnknownImports, strings.Join(unknown, ", "))
	}
	exports := map[string]*wasmtime.ExternType{}
	for _, ex := range mod.Exports() {
		exports[ex.Name()] = ex.Type()
		info.Exports = append(info.Exports, ex.Name())
	}
	isFunc := func(name string, params, results int) bool {
		t, ok := exports[name]
		if !ok || t.FuncType() == nil {
			return false
		}
		ft := t.FuncType()
		if len(ft.Params()) != params || len(ft.Results()) != results {
			return false
		}
		for _, p := range ft.Params() {
			if p.Kind() != wasmtime.KindI32 {
				return false
			}
		}
		for _, r := range ft.Results() {
			if r.Kind() != wasmtime.KindI32 {
				return false
			}
		}
		return true
	}
	if t, ok := exports[abi.ExportInitialize]; ok {
		if !isFunc(abi.ExportInitialize, 0, 0) {
			return info, fmt.Errorf("%w: _initialize must be a function with no parameters and no results (%v)", ErrNoEntry, t.FuncType() != nil)
		}
		info.HasInit = true
	}
	info.HasEvent = isFunc(abi.ExportEvent, 1, 1)
	switch {
	case exports[abi.ExportHandle] != nil:
		if !isFunc(abi.ExportHandle, 2, 1) {
			return info, fmt.Errorf("%w: wedge_handle must have type (func (param i32 i32) (result i32))", ErrNoEntry)
		}
		if mt, ok := exports[abi.ExportMemory]; !ok || mt.MemoryType() == nil {
			return info, fmt.Errorf("%w: the native entry needs an exported memory named \"memory\"", ErrNoEntry)
		}
		info.Entry = EntryNative
	case exports[abi.ExportStart] != nil:
		if !isFunc(abi.ExportStart, 0, 0) {
			return info, fmt.Errorf("%w: _start must be a function with no parameters and no results", ErrNoEntry)
		}
		info.Entry = EntryCGI
	case info.HasEvent:
		if mt, ok := exports[abi.ExportMemory]; !ok || mt.MemoryType() == nil {
			return info, fmt.Errorf("%w: the event entry needs an exported memory named \"memory\"", ErrNoEntry)
		}
		info.Entry = EntryNative
	default:
		return info, fmt.Errorf("%w: the module exports neither %q (native entry) nor %q (WASI command)", ErrNoEntry, abi.ExportHandle, abi.ExportStart)
	}
	return info, nil
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

// Release drops a reference; the last one frees the native code.
func (m *Module) Release() {
	if m.refs.Add(-1) == 0 {
		if m.pre != nil {
			m.pre.Close()
		}
		m.mod.Close()
		m.engine.stats.LiveModules.Add(-1)
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
