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

	stats Stats
	kept  keptModules // preinit_with.go
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
}

// StatsSnapshot is a point-in-time copy of Stats.
type StatsSnapshot struct {
	Compiles, CacheLoads, Invocations, Traps, Timeouts, LiveModules, InstancesNow int64
}

func init() {
	// wasmtime's errors capture a native backtrace when RUST_BACKTRACE is
	// set, which costs tens of milliseconds per trap: a guest that traps on
	// purpose would make every request that slow. Native backtraces are of
	// no use to function authors (the wasm backtrace is kept), so turn them
	// off unless WEDGE_RUST_BACKTRACE asks for them.
	if os.Getenv("WEDGE_RUST_BACKTRACE") == "" {
		os.Setenv("RUST_LIB_BACKTRACE", "0")
	}
}

// NewEngine builds the engine and links the host functions.
func NewEngine(cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	wcfg := wasmtime.NewConfig()
	wcfg.SetEpochInterruption(true)
	wcfg.SetMemoryInitCOWSet(true)
	wcfg.SetCraneliftOptLevel(wasmtime.OptLevelSpeed)
	pooling := false
	if !cfg.NoPooling {
		pc := wasmpool.DefaultPoolConfig()
		n := uint32(cfg.PoolInstances)
		pc.TotalCoreInstances, pc.TotalMemories, pc.TotalTables, pc.TotalGCHeaps = n, n, n, n
		pc.MaxMemoryBytes = MaxMemoryLimit
		// Reset up to 8 MiB of a freed memory slot with memset instead of
		// madvise, which keeps those pages resident: madvise's TLB
		// shootdowns and the page faults that follow cost more than
		// clearing what a request touched. Measured in process
		// (BenchmarkInvokeGuests): a minimal WAT request 29 -> 10 us at
		// 64 KiB; a pre-initialized Go hello 750 -> 300 us at 8 MiB (it
		// touches a few MiB of heap). The price is resident memory per
		// warm slot, so warm slots are capped at 32 (256 MiB at most).
		pc.LinearMemoryKeepResident = 8 << 20
		pc.MaxUnusedWarmSlots = 32
		// Snapshot rewriting and the instrumentation of deploy-time
		// initialization add no memories or tables.
		if err := wasmpool.EnablePooling(wcfg, pc); err != nil {
			slog.Warn("runtime: pooling allocator unavailable; instances will use the on-demand allocator", "err", err)
		} else {
			pooling = true
		}
	}
	e := &Engine{
		cfg:      cfg,
		pooling:  pooling,
		engine:   wasmtime.NewEngineWithConfig(wcfg),
		start:    time.Now(),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		tickDone: make(chan struct{}),
	}
	if cfg.CacheDir != "" {
		c, err := newArtifactCache(cfg.CacheDir, cfg.CollectArtifacts)
		if err != nil {
			return nil, err
		}
		e.cache = c
	}
	e.linker = wasmtime.NewLinker(e.engine)
	if err := e.defineHost(); err != nil {
		return nil, fmt.Errorf("runtime: linking host functions: %w", err)
	}
	go e.tick()
	return e, nil
}

// Close stops the epoch ticker and frees the linker and engine. Modules
// must be closed first.
func (e *Engine) Close() {
	e.stopOnce.Do(func() {
		close(e.stop)
		<-e.tickDone
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
	if e.active.Add(1) == 1 {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
}

func (e *Engine) leave() { e.active.Add(-1) }

// tick increments the epoch every EpochTick while invocations run, and for
// a second after the last one, then parks until woken.
func (e *Engine) tick() {
	defer close(e.tickDone)
	t := time.NewTicker(e.cfg.EpochTick)
	defer t.Stop()
	idleTicks, grace := 0, int(time.Second/e.cfg.EpochTick)
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.engine.IncrementEpoch()
			if e.active.Load() > 0 {
				idleTicks = 0
				continue
			}
			if idleTicks++; idleTicks < grace {
				continue
			}
			t.Stop()
			select {
			case <-e.stop:
				return
			case <-e.wake:
			}
			idleTicks = 0
			t.Reset(e.cfg.EpochTick)
		case <-e.wake:
		}
	}
}
