package runtime

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/internal/wasmpool"
)

// Engine is the process-wide WebAssembly engine: one wasmtime engine, one
// linker holding every host function, and the epoch ticker that enforces
// time limits. It is safe for concurrent use.
type Engine struct {
	cfg     Config
	pooling bool
	engine  *wasmtime.Engine
	linker  *wasmtime.Linker
	start   time.Time
	cache   *artifactCache
	hosts   map[string]map[string]hostSig // module -> name -> signature

	// epoch ticking runs only while invocations are in flight (plus a
	// grace period), so an idle node does no periodic work.
	active   atomic.Int64
	wake     chan struct{}
	stop     chan struct{}
	tickDone chan struct{}
	stopOnce sync.Once
	closing  atomic.Bool      // Close has begun: background compilations give up
	ticker   *wasmpool.Ticker // the native epoch ticker; nil: the goroutine below
	clock    *epochClock      // the goroutine's epoch position on the wall clock (epoch.go)

	stats  Stats
	kept   keptModules // preinit_with.go
	shared sharedCode  // split.go
}

// Stats counts engine-level events; read with Engine.Stats.
type Stats struct {
	Compiles     atomic.Int64 // compilations of deployed modules started (the cache had no artifact), failed ones included
	CacheLoads   atomic.Int64 // modules loaded from the artifact cache
	Invocations  atomic.Int64
	Traps        atomic.Int64
	Timeouts     atomic.Int64
	LiveModules  atomic.Int64
	InstancesNow atomic.Int64
	NoPre        atomic.Int64 // modules adopted without an InstancePre (instantiated through the linker)
}

// StatsSnapshot is a point-in-time copy of Stats.
type StatsSnapshot struct {
	Compiles, CacheLoads, Invocations, Traps, Timeouts, LiveModules, InstancesNow int64
	// ModulesWithoutPre counts modules adopted without an InstancePre:
	// each of their instantiations resolves every import again.
	ModulesWithoutPre int64
	// FastPath reports whether wasmpool's call and host-function fast
	// path is in use (wasmpool.FastPathErr is nil).
	FastPath bool
}

// quietBacktraces turns off the native backtraces wasmtime's errors
// capture, once per process: NewEngine's first step, so that importing
// the package changes nothing. wasmtime captures one when RUST_BACKTRACE
// is set, which costs tens of milliseconds per trap: a guest that traps
// on purpose would make every request that slow. Native backtraces are
// of no use to function authors (the wasm backtrace is kept), so they go
// unless WEDGE_RUST_BACKTRACE asks for them. Rust reads the variable at
// the first capture, so it is set before any engine exists.
var quietBacktraces = sync.OnceFunc(func() {
	if os.Getenv("WEDGE_RUST_BACKTRACE") == "" {
		os.Setenv("RUST_LIB_BACKTRACE", "0")
	}
})

// codegenConfig is the wasmtime configuration of everything that
// changes compiled code (engineSettings names it in the fingerprint).
func codegenConfig() *wasmtime.Config {
	wcfg := wasmtime.NewConfig()
	wcfg.SetEpochInterruption(true)
	wcfg.SetMemoryInitCOWSet(true)
	wcfg.SetCraneliftOptLevel(wasmtime.OptLevelSpeed)
	return wcfg
}

// NewEngine builds the engine and links the host functions. The first
// call sets RUST_LIB_BACKTRACE=0 in the process environment unless
// WEDGE_RUST_BACKTRACE is set (quietBacktraces).
func NewEngine(cfg Config) (*Engine, error) {
	quietBacktraces()
	cfg = cfg.withDefaults()
	wcfg := codegenConfig()
	if os.Getenv("WEDGE_PERFMAP") != "" {
		// For profiling guests: wasmtime writes /tmp/perf-<pid>.map, so
		// `perf report` names each guest function (wasm[0]::function[N]::name).
		// wasmtime-go v39 has no constant for it; 3 is
		// WASMTIME_PROFILING_STRATEGY_PERFMAP in wasmtime/config.h.
		wcfg.SetProfiler(wasmtime.ProfilingStrategy(3))
	}
	pooling := false
	var pc wasmpool.PoolConfig
	if !cfg.NoPooling {
		pc = wasmpool.DefaultPoolConfig()
		n := uint32(cfg.PoolInstances)
		pc.TotalCoreInstances, pc.TotalMemories, pc.TotalTables, pc.TotalGCHeaps = n, n, n, n
		// A split module's request (split.go) takes two instances, one
		// memory and one table, so instances get twice the slots.
		pc.TotalCoreInstances = 2 * n
		pc.MaxMemoryBytes = MaxMemoryLimit
		// A freed slot is reset with wasmtime's PAGEMAP_SCAN reset
		// (wasmpool turns it on): the kernel lists the pages the request
		// wrote, up to 8 MiB of them are copied back from the image and
		// stay resident, nothing else is touched, so a reset costs what
		// the request wrote, not the snapshot's size. Without the ioctl
		// (Linux < 6.7) the first 8 MiB are copied back whole and the
		// rest decommitted. Tables likewise, up to 1 MiB (the Go guests'
		// function tables would otherwise be decommitted and their lazy
		// entries refaulted per request). See "Why reset only the pages a
		// request wrote?" in docs/RATIONALE.md. Warm slots keep their
		// written pages resident, so they are capped at 32.
		pc.LinearMemoryKeepResident = 8 << 20
		pc.TableKeepResident = 1 << 20
		pc.MaxUnusedWarmSlots = 32
		// Snapshot rewriting and the instrumentation of deploy-time
		// initialization add no memories or tables.
		if err := wasmpool.EnablePooling(wcfg, pc); err != nil {
			slog.Warn("runtime: pooling allocator unavailable; instances will use the on-demand allocator", "err", err)
		} else {
			pooling = true
			if err := wasmpool.PagemapScanAvailable(); err != nil {
				slog.Warn("runtime: freed instance memory is reset by copying it whole", "err", err)
			}
		}
	}
	warnSlowPaths()
	e := &Engine{
		cfg:      cfg,
		pooling:  pooling,
		engine:   wasmtime.NewEngineWithConfig(wcfg),
		start:    time.Now(),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		tickDone: make(chan struct{}),
	}
	e.clock = newEpochClock(e.start, cfg.EpochTick)
	if cfg.CacheDir != "" {
		c, err := newArtifactCache(cfg.CacheDir, engineFingerprint(pc, pooling), cfg.CollectArtifacts)
		if err != nil {
			return nil, err
		}
		e.cache = c
	}
	e.linker = wasmtime.NewLinker(e.engine)
	if err := e.defineHost(); err != nil {
		return nil, fmt.Errorf("runtime: linking host functions: %w", err)
	}
	// The epoch is advanced by a native thread that the Go scheduler
	// cannot delay (epoch.go); the goroutine is the fallback.
	if t, err := wasmpool.StartTicker(e.engine, cfg.EpochTick, tickerGrace); err == nil {
		e.ticker = t
		close(e.tickDone)
	} else {
		slog.Warn("runtime: native epoch ticker unavailable; time limits use a goroutine, late when every core is busy", "err", err)
		go e.tick()
	}
	return e, nil
}

// warnSlowPaths logs one warning per wasmpool fast path this build cannot
// use. Each falls back to wasmtime-go's public API and works, but several
// times slower per request, which nothing else would show.
func warnSlowPaths() {
	if err := wasmpool.FastPathErr(); err != nil {
		slog.Warn("runtime: wasmpool fast path UNAVAILABLE: calls and host functions take wasmtime-go's public API, requests 3-4x slower (wedge_wasmpool_fast_path 0)", "err", err)
	}
	if err := wasmpool.InstancePreErr(); err != nil {
		slog.Warn("runtime: wasmpool InstancePre UNAVAILABLE: every instantiation resolves its imports again (wedge_modules_without_instancepre_total)", "err", err)
	}
}

// Close stops the epoch ticker and frees the linker and engine. Modules
// must be closed first.
func (e *Engine) Close() {
	e.stopOnce.Do(func() {
		e.closing.Store(true)
		close(e.stop)
		<-e.tickDone
		if e.ticker != nil {
			e.ticker.Stop()
		}
		e.shared.close()
		e.linker.Close()
		e.engine.Close()
	})
}

// Pooling reports whether the pooling instance allocator is on.
func (e *Engine) Pooling() bool { return e.pooling }

// PoolInstances is the number of instance slots (0 without pooling).
func (e *Engine) PoolInstances() int {
	if !e.pooling {
		return 0
	}
	return e.cfg.PoolInstances
}

// Stats returns a snapshot of the engine counters.
func (e *Engine) Stats() StatsSnapshot {
	s := &e.stats
	return StatsSnapshot{
		Compiles: s.Compiles.Load(), CacheLoads: s.CacheLoads.Load(),
		Invocations: s.Invocations.Load(), Traps: s.Traps.Load(), Timeouts: s.Timeouts.Load(),
		LiveModules: s.LiveModules.Load(), InstancesNow: s.InstancesNow.Load(),
		ModulesWithoutPre: s.NoPre.Load(), FastPath: wasmpool.FastPathErr() == nil,
	}
}

// monotonic is the WASI monotonic clock: nanoseconds since the Unix epoch
// as the wall clock read when the engine started, advanced by Go's
// monotonic clock. It never goes backwards within a process and, unlike a
// process-relative clock, keeps growing across restarts, so a snapshot
// taken at deploy time (which may have recorded a clock reading) never
// sees time run backwards when it is served by a later process.
func (e *Engine) monotonic() uint64 {
	return uint64(e.start.UnixNano()) + uint64(time.Since(e.start))
}

// EpochTick is the time-limit resolution.
func (e *Engine) EpochTick() time.Duration { return e.cfg.EpochTick }

// MaxModuleBytes is the largest module Compile accepts.
func (e *Engine) MaxModuleBytes() int { return e.cfg.MaxModuleBytes }

func (e *Engine) enter() {
	if e.ticker != nil {
		e.ticker.Enter()
		return
	}
	if e.active.Add(1) == 1 {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
}

func (e *Engine) leave() {
	if e.ticker != nil {
		e.ticker.Leave()
		return
	}
	e.active.Add(-1)
}

// tick keeps the engine's epoch in step with the wall clock (epoch.go)
// while invocations run, and for a second after the last one, then parks
// until woken.
func (e *Engine) tick() {
	defer close(e.tickDone)
	t := time.NewTicker(e.cfg.EpochTick)
	defer t.Stop()
	idleTicks, grace := 0, int(tickerGrace/e.cfg.EpochTick)
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			n := e.clock.due(time.Now())
			for i := 0; i < n; i++ {
				e.engine.IncrementEpoch()
			}
			e.clock.caughtUp(n)
			if e.active.Load() > 0 {
				idleTicks = 0
				continue
			}
			if idleTicks++; idleTicks < grace {
				continue
			}
			t.Stop()
			e.clock.park()
			select {
			case <-e.stop:
				return
			case <-e.wake:
			}
			idleTicks = 0
			e.clock.restart(time.Now())
			t.Reset(e.cfg.EpochTick)
		case <-e.wake:
		}
	}
}
