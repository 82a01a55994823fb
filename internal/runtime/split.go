package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/internal/snapshot"
	"github.com/wedge-run/wedge/internal/wasmpool"
)

// Shared code: modules that differ only in their memory's initial
// contents (wedge's JavaScript engine snapshotted with one script after
// another: the same 630 KB of code, different data segments) are served
// as two modules, so that the code is compiled once per node instead of
// once per deploy. snapshot.Split turns such a module into
//
//   - code, which imports its memory: the same bytes for every module of
//     the family, compiled once, kept for the engine's lifetime and in
//     the artifact cache under its own sha256 (never collected while the
//     engine lives);
//   - data, which defines the memory with the module's data segments and
//     re-exports the host functions: compiled per module in milliseconds.
//
// A request instantiates data through its InstancePre (host functions
// resolved once; the memory slot keeps data's copy-on-write image as a
// whole module's would), then code with data's exports as its imports
// (wasmpool.InstancePre.InstantiateLinked). Every request still gets a
// fresh memory, globals and table: isolation is that of a whole module.
//
// The second instantiation costs more than one: wasmtime's C API has no
// pre-resolved path for imports that come from another instance, so
// every request type-checks them again (BenchmarkInstantiateJS: about
// 2-3 µs of CPU more), and code reaching an imported memory need not
// compile as well as code owning it. So a split module is a stage: it serves from the moment it exists, while the
// original is compiled whole in the background (compileWhole, one at a
// time), and requests switch to the whole module once it is ready; the
// artifact cache then holds it for the next start. A deploy is done,
// and answers, without waiting for that compilation.
//
// Only code whose code section was registered with ShareCode is split.

// sharedCode is the engine's state for ShareCode.
type sharedCode struct {
	mu     sync.Mutex
	want   map[[32]byte]bool  // sha256 of registered code sections
	mods   map[string]*Module // compiled code modules by sha256, held for the engine's lifetime
	build  sync.Mutex         // one code compilation at a time
	bgTurn sync.Mutex         // one whole compilation (compileWhole) at a time
	bg     sync.WaitGroup     // whole compilations not finished
	aside  *wasmtime.Engine   // compileAside's engine; nil until used
}

// ShareCode registers the code of wasm (its code section): modules
// compiled afterwards with the same code section are served split, their
// code compiled once. Registering a module without code does nothing.
func (e *Engine) ShareCode(wasm []byte) {
	sum, ok := codeSectionSHA(wasm)
	if !ok {
		return
	}
	s := &e.shared
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.want == nil {
		s.want = map[[32]byte]bool{}
	}
	s.want[sum] = true
}

// sharesCode reports whether wasm's code section was registered.
func (e *Engine) sharesCode(wasm []byte) bool {
	s := &e.shared
	s.mu.Lock()
	n := len(s.want)
	s.mu.Unlock()
	if n == 0 || wasmpool.InstancePreErr() != nil {
		return false
	}
	sum, ok := codeSectionSHA(wasm)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.want[sum]
}

// codeSectionSHA returns the sha256 of wasm's code section body.
func codeSectionSHA(wasm []byte) ([32]byte, bool) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return [32]byte{}, false
	}
	for p := 8; p < len(wasm); {
		id := wasm[p]
		size, n := binary.Uvarint(wasm[p+1:])
		if n <= 0 || uint64(len(wasm)-p-1-n) < size {
			return [32]byte{}, false
		}
		body := wasm[p+1+n : p+1+n+int(size)]
		if id == 10 {
			return sha256.Sum256(body), true
		}
		p += 1 + n + int(size)
	}
	return [32]byte{}, false
}

// compileSplit compiles wasm, whose code is shared, as a data module
// linked to the shared code module. info describes wasm (already
// checked). It returns nil and the reason when wasm cannot be split; the
// caller then compiles it whole.
func (e *Engine) compileSplit(wasm []byte, sum string, info *Info) (*Module, error) {
	code, data, links, err := snapshot.Split(wasm)
	if err != nil {
		return nil, err
	}
	cm, err := e.codeModule(code)
	if err != nil {
		return nil, err
	}
	dmod, err := wasmtime.NewModule(e.engine, data)
	if err != nil {
		cm.Release()
		return nil, fmt.Errorf("data module: %s", shortError(err))
	}
	pre, err := wasmpool.NewInstancePre(e.linker, dmod)
	if err != nil {
		dmod.Close()
		cm.Release()
		return nil, err
	}
	m := &Module{engine: e, mod: dmod, pre: pre, code: cm, links: links, SHA256: sum,
		Entry: info.Entry, HasInit: info.HasInit, HasEvent: info.HasEvent, upgraded: make(chan struct{})}
	m.refs.Store(1)
	e.stats.LiveModules.Add(1)
	if e.cfg.SplitOnly {
		close(m.upgraded)
	} else {
		e.shared.bg.Add(1)
		go e.compileWhole(m, wasm)
	}
	return m, nil
}

// compileAside compiles wasm on the engine's second, single-threaded
// wasmtime engine (same code-generation settings, no instance pool) and
// loads the result into the engine, through the artifact cache when
// there is one. On the engine itself the compilation would take every
// thread of wasmtime's compilation pool, and a deploy's data module,
// compiled meanwhile, would wait for it (measured: 3-4 s instead of
// 15-40 ms).
func (e *Engine) compileAside(wasm []byte, sum string) (*wasmtime.Module, error) {
	aside, err := e.asideEngine()
	if err != nil {
		return nil, err
	}
	cm, err := wasmtime.NewModule(aside, wasm)
	if err != nil {
		return nil, err
	}
	art, err := cm.Serialize()
	cm.Close()
	if err != nil {
		return nil, err
	}
	if e.cache != nil {
		if err := e.cache.put(sum, art); err == nil {
			return wasmtime.NewModuleDeserializeFile(e.engine, e.cache.path(sum))
		}
	}
	return wasmtime.NewModuleDeserialize(e.engine, art)
}

// asideEngine returns the engine's second wasmtime engine, made at first
// use (compileAside).
func (e *Engine) asideEngine() (*wasmtime.Engine, error) {
	s := &e.shared
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aside == nil {
		cfg := codegenConfig()
		cfg.SetParallelCompilation(false)
		s.aside = wasmtime.NewEngineWithConfig(cfg)
	}
	return s.aside, nil
}

// wholeModule is a split module compiled whole (compileWhole).
type wholeModule struct {
	mod    *wasmtime.Module
	pre    *wasmpool.InstancePre
	cached bool // holds its artifact open in the cache
}

func (w *wholeModule) close(e *Engine, sum string) {
	w.pre.Close()
	w.mod.Close()
	if w.cached {
		e.cache.release(sum)
	}
}

// compileWhole compiles a split module's original bytes whole, one such
// compilation at a time, and switches m's requests to it: a request
// instantiates one module instead of two, which costs less (see
// "Why is a JavaScript function served split until its snapshot compiles
// whole?" in docs/RATIONALE.md). The artifact goes to the cache under
// m's sha256, so the next start loads it whole. A module released before
// its turn is skipped.
func (e *Engine) compileWhole(m *Module, wasm []byte) {
	defer e.shared.bg.Done()
	defer close(m.upgraded)
	e.shared.bgTurn.Lock()
	defer e.shared.bgTurn.Unlock()
	if m.refs.Load() <= 0 || !m.Retain() {
		return
	}
	defer m.Release()
	if e.closing.Load() {
		return
	}
	sum := m.SHA256
	var mod *wasmtime.Module
	cached := false
	if e.cache != nil {
		e.cache.acquire(sum)
		cached = true
		if e.cache.has(sum) {
			if lm, err := wasmtime.NewModuleDeserializeFile(e.engine, e.cache.path(sum)); err == nil {
				mod = lm
			}
		}
	}
	if mod == nil {
		e.stats.Compiles.Add(1)
		lm, err := e.compileAside(wasm, sum)
		if err != nil {
			if cached {
				e.cache.release(sum)
			}
			slog.Warn("runtime: compiling a split module whole; it stays split", "sha256", sum, "err", err)
			return
		}
		mod = lm
	}
	pre, err := wasmpool.NewInstancePre(e.linker, mod)
	if err != nil {
		mod.Close()
		if cached {
			e.cache.release(sum)
		}
		return
	}
	m.whole.Store(&wholeModule{mod: mod, pre: pre, cached: cached})
}

// codeModule returns the compiled code module of these bytes with a
// reference for the caller: from memory, else from the artifact cache,
// else compiled (and stored in the cache, which keeps it).
func (e *Engine) codeModule(code []byte) (*Module, error) {
	sum := SHA256Hex(code)
	s := &e.shared
	if m := s.get(sum); m != nil {
		return m, nil
	}
	s.build.Lock()
	defer s.build.Unlock()
	if m := s.get(sum); m != nil {
		return m, nil
	}
	var mod *wasmtime.Module
	fromCache := false
	if e.cache != nil {
		e.cache.pin(sum)
		if e.cache.has(sum) {
			if m, err := wasmtime.NewModuleDeserializeFile(e.engine, e.cache.path(sum)); err == nil {
				mod, fromCache = m, true
				e.stats.CacheLoads.Add(1)
			} else {
				e.cache.remove(sum)
			}
		}
	}
	if mod == nil {
		e.stats.Compiles.Add(1)
		m, err := wasmtime.NewModule(e.engine, code)
		if err != nil {
			return nil, fmt.Errorf("%w: %s", ErrInvalidModule, shortError(err))
		}
		mod = m
		if e.cache != nil {
			if art, err := mod.Serialize(); err == nil {
				if err := e.cache.put(sum, art); err != nil {
					slog.Warn("runtime: storing shared code", "sha256", sum, "err", err)
				}
			}
		}
	}
	// The engine's own reference; Close drops it.
	m := &Module{engine: e, mod: mod, SHA256: sum, FromCache: fromCache}
	m.refs.Store(2) // the engine's and the caller's
	e.stats.LiveModules.Add(1)
	s.mu.Lock()
	if s.mods == nil {
		s.mods = map[string]*Module{}
	}
	s.mods[sum] = m
	s.mu.Unlock()
	return m, nil
}

// get returns the code module sum with a reference for the caller, or
// nil.
func (s *sharedCode) get(sum string) *Module {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mods[sum]; m != nil && m.Retain() {
		return m
	}
	return nil
}

// close waits for the whole compilations and drops the engine's
// references to its code modules.
func (s *sharedCode) close() {
	s.bg.Wait()
	s.mu.Lock()
	mods := s.mods
	s.mods = nil
	if s.aside != nil {
		s.aside.Close()
		s.aside = nil
	}
	s.mu.Unlock()
	for _, m := range mods {
		m.Release()
	}
}

// SharedCodeModules reports how many shared code modules the engine
// holds (compiled or loaded once each).
func (e *Engine) SharedCodeModules() int {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	return len(e.shared.mods)
}

// Split reports whether m is served, for now, as a data module linked
// to shared code (ShareCode).
func (m *Module) Split() bool { return m.code != nil && m.whole.Load() == nil }

// WaitCompiled waits for the whole compilations of split modules queued
// or running now (compileWhole).
func (e *Engine) WaitCompiled() { e.shared.bg.Wait() }

// WaitWhole waits until a split module is served whole, or will not be
// (Config.SplitOnly, a failed compilation, a released module). It returns
// at once for any other module.
func (m *Module) WaitWhole() {
	if m.upgraded != nil {
		<-m.upgraded
	}
}
