package runtime

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strings"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/snapshot"
)

// ErrSnapshot reports a module that could not be pre-initialized; the
// caller serves the original instead.
var ErrSnapshot = errors.New("pre-initialization failed")

// preinitEpoch is the realtime clock (ns since 1970) that
// pre-initialization sees: 2026-01-01T00:00:00Z.
const preinitEpoch = 1767225600_000_000_000

// preinitState makes pre-initialization reproducible: the same module
// and configuration give the same snapshot, on every node, so the
// snapshot's artifact is cached and shared like any module's.
type preinitState struct {
	clock uint64 // nanoseconds; advanced by each clock read and sleep
	rng   *mrand.ChaCha8
}

// SnapshotStats describes a pre-initialization.
type SnapshotStats struct {
	SHA256       string        `json:"sha256"`
	MemoryBytes  int           `json:"memory_bytes"`
	NonZeroBytes int           `json:"nonzero_bytes"`
	Segments     int           `json:"segments"`
	InitTime     time.Duration `json:"init_ns"`
	Duration     time.Duration `json:"duration_ns"`
}

// Preinitialize runs a reactor's _initialize once with env (its
// configuration is what the initializer sees), captures its memory and
// globals, and returns a module that starts in that state without
// _initialize. Host calls that reach beyond the instance (key-value,
// queues, objects) are refused during initialization, so nothing
// request-specific or external is baked in; WASI clocks, randomness and
// the environment work, and their values are frozen into the snapshot.
func (e *Engine) Preinitialize(wasm []byte, env *Env) ([]byte, SnapshotStats, error) {
	return e.PreinitializeWith(wasm, env, PreinitOptions{})
}

// PreinitializeWith is Preinitialize with options (preinit_with.go).
func (e *Engine) PreinitializeWith(wasm []byte, env *Env, opt PreinitOptions) ([]byte, SnapshotStats, error) {
	init := *env
	init.KV, init.Events = nil, nil
	logs := &initLogs{next: env.Logs}
	init.Logs = logs
	init.Limits = init.Limits.WithDefaults()
	var initTime time.Duration
	run := func(instrumented []byte, globals []snapshot.GlobalInfo) (snapshot.State, error) {
		mod, release, err := e.compileInstrumented(instrumented, opt.KeepCompiled)
		if err != nil {
			return snapshot.State{}, err
		}
		defer release()
		c := NewCall()
		defer c.Release()
		c.Env = &init
		c.RequestID = "preinit"
		seed := sha256.Sum256(append(append(append([]byte(nil), wasm...), []byte(strings.Join(init.environ, "\x00"))...), opt.Trailer...))
		c.preinit = &preinitState{clock: 1_000_000_000, rng: mrand.NewChaCha8(seed)}
		c.base = e.start
		c.monoBase = uint64(e.start.UnixNano())
		c.deadline = time.Now().Add(init.Limits.Timeout)
		store := wasmtime.NewStoreWithData(e.engine, c)
		defer store.Close()
		store.Limiter(init.Limits.MemoryBytes, init.Limits.TableElements, 16, 16, 1)
		e.enter()
		defer e.leave()
		e.setDeadline(store, init.Limits.Timeout)
		inst, err := e.linker.Instantiate(store, mod)
		if err != nil {
			return snapshot.State{}, fmt.Errorf("instantiating: %s", shortError(err))
		}
		if ext := inst.GetExport(store, abi.ExportMemory); ext != nil {
			c.mem = ext.Memory()
		}
		if err := appendTrailer(store, inst, opt.Trailer); err != nil {
			return snapshot.State{}, err
		}
		start := time.Now()
		f := inst.GetFunc(store, abi.ExportInitialize)
		if f == nil {
			return snapshot.State{}, errors.New("no _initialize export")
		}
		if _, err := f.Call(store); err != nil {
			c.flushStreams()
			return snapshot.State{}, &InitError{Cause: shortError(err), Log: logs.String()}
		}
		initTime = time.Since(start)
		c.flushStreams()
		var st snapshot.State
		for _, g := range globals {
			ext := inst.GetExport(store, g.ExportName)
			if ext == nil || ext.Global() == nil {
				return st, fmt.Errorf("global %s not exported", g.ExportName)
			}
			v := ext.Global().Get(store)
			switch g.Type {
			case snapshot.I32:
				st.Globals = append(st.Globals, snapshot.ValueI32(v.I32()))
			case snapshot.I64:
				st.Globals = append(st.Globals, snapshot.ValueI64(v.I64()))
			case snapshot.F32:
				st.Globals = append(st.Globals, snapshot.Value(math.Float32bits(v.F32())))
			case snapshot.F64:
				st.Globals = append(st.Globals, snapshot.Value(math.Float64bits(v.F64())))
			default:
				return st, fmt.Errorf("global %s: unsupported type", g.ExportName)
			}
		}
		if ext := inst.GetExport(store, snapshot.MemoryExport); ext != nil && ext.Memory() != nil {
			st.Memory = append([]byte(nil), ext.Memory().UnsafeData(store)...)
		}
		return st, nil
	}
	out, stats, err := snapshot.Snapshot(wasm, run)
	if err != nil {
		return nil, SnapshotStats{}, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	return out, SnapshotStats{SHA256: SHA256Hex(out), MemoryBytes: stats.MemoryBytes, NonZeroBytes: stats.NonZeroBytes,
		Segments: stats.Segments, InitTime: initTime, Duration: stats.Duration}, nil
}

// compileCached compiles wasm through the artifact cache without the
// checks of Compile (the instrumented module exists only to be run once
// per deploy, but compiling a large module takes seconds). release ends
// the module's use of its artifact. An engine that collects its cache
// reads an artifact that is there (one the benchmark suite seeded, say)
// but writes none: no live version uses an instrumented module, so the
// next collection would delete it.
func (e *Engine) compileCached(wasm []byte) (mod *wasmtime.Module, release func(), err error) {
	if e.cache == nil {
		mod, err := wasmtime.NewModule(e.engine, wasm)
		return mod, func() {}, err
	}
	sum := SHA256Hex(wasm)
	e.cache.acquire(sum)
	release = func() { e.cache.release(sum) }
	if e.cache.has(sum) {
		if m, err := wasmtime.NewModuleDeserializeFile(e.engine, e.cache.path(sum)); err == nil {
			return m, release, nil
		}
		e.cache.remove(sum)
	}
	m, err := wasmtime.NewModule(e.engine, wasm)
	if err != nil {
		release()
		return nil, nil, err
	}
	if !e.cache.collect {
		if art, err := m.Serialize(); err == nil {
			_ = e.cache.put(sum, art)
		}
	}
	return m, release, nil
}
