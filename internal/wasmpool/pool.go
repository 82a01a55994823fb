package wasmpool

// #include "wasmpool.h"
// int wasmpool_pagemap_scan_auto(wasmtime_pooling_allocation_config_t *);
import "C"

import (
	"fmt"
	"math"
	"math/bits"
	"runtime"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// PoolConfig sizes wasmtime's pooling instance allocator. The allocator
// reserves, when the engine is built, address space for every slot it may
// hand out; instantiation then takes a free slot instead of calling mmap,
// and a slot that held the same module before keeps its copy-on-write
// memory image mapped. Fields left zero take the defaults of
// DefaultPoolConfig; WithDefaults shows the result.
//
// The limits are engine-wide, shared by every store of the engine. Stores
// still apply their own limits (wasmtime.Store.Limiter) on top.
type PoolConfig struct {
	// TotalCoreInstances is how many core module instances may be alive at
	// once across all stores. Instantiating one more fails with an error
	// for which IsPoolExhausted reports true. Default 1000.
	TotalCoreInstances uint32
	// TotalMemories is how many linear memories may be alive at once.
	// Each reserves MemoryReservation+MemoryGuardSize bytes of address
	// space (see ReservedAddressSpace). Default TotalCoreInstances.
	TotalMemories uint32
	// TotalTables is how many tables may be alive at once; each reserves
	// TableElements pointer-sized entries. Default TotalCoreInstances.
	TotalTables uint32
	// TotalGCHeaps is how many stores may hold a GC heap at once (only
	// stores that allocate GC references need one). Default
	// TotalCoreInstances.
	TotalGCHeaps uint32

	// MaxMemoryBytes is the most a linear memory may grow to; memory.grow
	// beyond it fails and a module whose initial memory is larger is
	// rejected. It may not exceed the memory reservation. It must be at
	// least as large as any per-function memory limit the runtime
	// enforces. Default 128 MiB.
	MaxMemoryBytes uint64
	// TableElements is the most elements any table may hold. Default
	// 100,000, the runtime's default per-invocation table limit.
	TableElements uint64
	// MaxMemoriesPerModule and MaxTablesPerModule bound what one module
	// may define. Default 1 each (the wasmtime defaults).
	MaxMemoriesPerModule uint32
	MaxTablesPerModule   uint32
	// MaxCoreInstanceSize bounds the per-instance metadata (VMContext),
	// which grows with the number of functions, globals and imports.
	// Default 1 MiB (the wasmtime default).
	MaxCoreInstanceSize uint64

	// MaxUnusedWarmSlots is how many free slots keep their last module's
	// memory image mapped for reuse by the same module. Zero means the
	// default, 100 (the wasmtime default).
	MaxUnusedWarmSlots uint32
	// LinearMemoryKeepResident and TableKeepResident are how many bytes of
	// a freed memory or table are zeroed in place and kept resident
	// instead of returned to the kernel with madvise. Default 0: release
	// everything.
	//
	// With the PAGEMAP_SCAN reset (see NoPagemapScan) the meaning
	// changes: up to this many bytes of the pages an instance actually
	// wrote are copied back from the image and stay resident; pages it
	// did not write are not touched at all.
	LinearMemoryKeepResident uint64
	TableKeepResident        uint64
	// NoPagemapScan keeps wasmtime's PAGEMAP_SCAN reset off. By default
	// EnablePooling turns it on (wasmtime's Enabled::Auto, which the C
	// API of wasmtime 39 cannot set; see PagemapScanAvailable), so that
	// resetting a freed slot costs in proportion to the pages the
	// instance wrote rather than to LinearMemoryKeepResident.
	NoPagemapScan bool
	// DecommitBatchSize is how many freed regions are batched before one
	// decommit pass. Default 1 (decommit at once).
	DecommitBatchSize uint64

	// MemoryReservation is the virtual size of every linear memory slot,
	// an engine-wide setting. Zero keeps wasmtime's default, 4 GiB on
	// 64-bit hosts, which lets compiled code omit bounds checks for 32-bit
	// memories. Smaller values shrink the reservation but make compiled
	// code check bounds and change the compilation settings, so modules
	// serialized under another value no longer deserialize.
	MemoryReservation uint64
	// MemoryGuardSize is the guard region after every memory. Zero keeps
	// wasmtime's default, 32 MiB. Also an engine-wide compilation setting.
	MemoryGuardSize uint64
}

// Wasmtime defaults this package relies on for validation and estimates,
// as documented for the pinned version on 64-bit hosts.
const (
	wasmtimeDefaultReservation = 4 << 30
	wasmtimeDefaultGuard       = 32 << 20
	wasmPageSize               = 64 << 10
	hostPageSize               = 4 << 10

	// maxReservedAddressSpace caps ReservedAddressSpace: a quarter of the
	// 128 TiB user address space of x86-64 and arm64 Linux with 4-level
	// page tables, leaving room for several engines, the Go heap and
	// everything else. Wasmtime aborts the process when its reservation
	// fails, so this is checked before the engine exists.
	maxReservedAddressSpace = 32 << 40
)

// DefaultPoolConfig returns the defaults, sized for a small node (2 cores,
// 24 GiB): 1000 concurrent instances of up to 128 MiB each. With the
// default 4 GiB memory reservation the engine reserves about 4 TiB of
// address space; that costs page-table entries only for pages touched.
func DefaultPoolConfig() PoolConfig {
	return PoolConfig{
		TotalCoreInstances:   1000,
		TotalMemories:        1000,
		TotalTables:          1000,
		TotalGCHeaps:         1000,
		MaxMemoryBytes:       128 << 20,
		TableElements:        100_000,
		MaxMemoriesPerModule: 1,
		MaxTablesPerModule:   1,
		MaxCoreInstanceSize:  1 << 20,
		MaxUnusedWarmSlots:   100,
		DecommitBatchSize:    1,
	}
}

// WithDefaults fills zero fields. The totals of memories, tables and GC
// heaps follow TotalCoreInstances when it is set and they are not.
func (c PoolConfig) WithDefaults() PoolConfig {
	d := DefaultPoolConfig()
	if c.TotalCoreInstances == 0 {
		c.TotalCoreInstances = d.TotalCoreInstances
	}
	for _, f := range []*uint32{&c.TotalMemories, &c.TotalTables, &c.TotalGCHeaps} {
		if *f == 0 {
			*f = c.TotalCoreInstances
		}
	}
	set := func(f *uint64, v uint64) {
		if *f == 0 {
			*f = v
		}
	}
	set(&c.MaxMemoryBytes, d.MaxMemoryBytes)
	set(&c.TableElements, d.TableElements)
	set(&c.MaxCoreInstanceSize, d.MaxCoreInstanceSize)
	set(&c.DecommitBatchSize, d.DecommitBatchSize)
	if c.MaxMemoriesPerModule == 0 {
		c.MaxMemoriesPerModule = d.MaxMemoriesPerModule
	}
	if c.MaxTablesPerModule == 0 {
		c.MaxTablesPerModule = d.MaxTablesPerModule
	}
	if c.MaxUnusedWarmSlots == 0 {
		c.MaxUnusedWarmSlots = d.MaxUnusedWarmSlots
	}
	return c
}

// reservation returns the effective per-memory reservation and guard.
func (c PoolConfig) reservation() (resv, guard uint64) {
	resv, guard = c.MemoryReservation, c.MemoryGuardSize
	if resv == 0 {
		resv = wasmtimeDefaultReservation
	}
	if guard == 0 {
		guard = wasmtimeDefaultGuard
	}
	return resv, guard
}

// ReservedAddressSpace estimates the virtual address space (not memory)
// the engine reserves for this configuration: memory slots, table slots
// and the guard before the first slot. On the pinned wasmtime it matches
// the mapped size to within 0.1% (TestReservedAddressSpace); the memory
// slots dominate. Zero fields count as defaults.
func (c PoolConfig) ReservedAddressSpace() uint64 {
	c = c.WithDefaults()
	resv, guard := c.reservation()
	slot := max(resv, c.MaxMemoryBytes) + guard
	mems := addSat(mulSat(uint64(c.TotalMemories), slot), guard)
	tables := mulSat(uint64(c.TotalTables), roundUp(mulSat(c.TableElements, 8), hostPageSize))
	return addSat(mems, tables)
}

// Validate reports configurations that wasmtime would reject when the
// engine is built. Wasmtime's C API aborts the whole process in that case
// (wasm_engine_new_with_config cannot return an error), so EnablePooling
// calls Validate first. Zero fields count as defaults.
func (c PoolConfig) Validate() error {
	c = c.WithDefaults()
	resv, guard := c.reservation()
	switch {
	case c.MaxMemoryBytes%wasmPageSize != 0:
		return fmt.Errorf("%w: MaxMemoryBytes %d is not a multiple of the 64 KiB wasm page", ErrInvalidConfig, c.MaxMemoryBytes)
	case c.MaxMemoryBytes > resv:
		return fmt.Errorf("%w: MaxMemoryBytes %d exceeds the memory reservation %d (memories in a pool cannot move)",
			ErrInvalidConfig, c.MaxMemoryBytes, resv)
	case resv%hostPageSize != 0 || guard%hostPageSize != 0:
		return fmt.Errorf("%w: MemoryReservation and MemoryGuardSize must be multiples of %d", ErrInvalidConfig, hostPageSize)
	case c.ReservedAddressSpace() > maxReservedAddressSpace:
		return fmt.Errorf("%w: the pool would reserve %d GiB of address space, more than the %d GiB allowed; lower TotalMemories or MemoryReservation",
			ErrInvalidConfig, c.ReservedAddressSpace()>>30, uint64(maxReservedAddressSpace)>>30)
	}
	return nil
}

// EnablePooling switches cfg, which must not have been used to build an
// engine yet, to the pooling allocator sized by pc and enables
// copy-on-write memory initialisation (SetMemoryInitCOWSet(true)), without
// which every instantiation copies the data segments. It also sets the
// engine's memory reservation and guard when pc sets them. Build the
// engine with wasmtime.NewEngineWithConfig(cfg) afterwards.
//
// Async fiber stacks, which wasmtime-go never uses, get no pool; their
// default would reserve another 2 GiB.
func EnablePooling(cfg *wasmtime.Config, pc PoolConfig) error {
	if poolingLayoutErr != nil {
		return poolingLayoutErr
	}
	pc = pc.WithDefaults()
	if err := pc.Validate(); err != nil {
		return err
	}
	cp := configPtr(cfg)
	if cp == nil {
		return fmt.Errorf("%w: wasmtime.Config already used to build an engine", ErrClosed)
	}
	pool := C.wasmtime_pooling_allocation_config_new()
	C.wasmtime_pooling_allocation_config_total_core_instances_set(pool, C.uint32_t(pc.TotalCoreInstances))
	C.wasmtime_pooling_allocation_config_total_memories_set(pool, C.uint32_t(pc.TotalMemories))
	C.wasmtime_pooling_allocation_config_total_tables_set(pool, C.uint32_t(pc.TotalTables))
	C.wasmtime_pooling_allocation_config_total_gc_heaps_set(pool, C.uint32_t(pc.TotalGCHeaps))
	C.wasmtime_pooling_allocation_config_total_stacks_set(pool, 0)
	C.wasmtime_pooling_allocation_config_max_memory_size_set(pool, C.size_t(pc.MaxMemoryBytes))
	C.wasmtime_pooling_allocation_config_table_elements_set(pool, C.size_t(pc.TableElements))
	C.wasmtime_pooling_allocation_config_max_memories_per_module_set(pool, C.uint32_t(pc.MaxMemoriesPerModule))
	C.wasmtime_pooling_allocation_config_max_tables_per_module_set(pool, C.uint32_t(pc.MaxTablesPerModule))
	C.wasmtime_pooling_allocation_config_max_core_instance_size_set(pool, C.size_t(pc.MaxCoreInstanceSize))
	C.wasmtime_pooling_allocation_config_max_unused_warm_slots_set(pool, C.uint32_t(pc.MaxUnusedWarmSlots))
	C.wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(pool, C.size_t(pc.LinearMemoryKeepResident))
	C.wasmtime_pooling_allocation_config_table_keep_resident_set(pool, C.size_t(pc.TableKeepResident))
	C.wasmtime_pooling_allocation_config_decommit_batch_size_set(pool, C.size_t(pc.DecommitBatchSize))
	if !pc.NoPagemapScan {
		// Enabled::Auto: a no-op on kernels without the ioctl.
		C.wasmpool_pagemap_scan_auto(pool)
	}
	// The strategy copies the pool settings; the settings object stays ours.
	C.wasmtime_pooling_allocation_strategy_set(cp, pool)
	C.wasmtime_pooling_allocation_config_delete(pool)
	if pc.MemoryReservation != 0 {
		C.wasmtime_config_memory_reservation_set(cp, C.uint64_t(pc.MemoryReservation))
	}
	if pc.MemoryGuardSize != 0 {
		C.wasmtime_config_memory_guard_size_set(cp, C.uint64_t(pc.MemoryGuardSize))
	}
	runtime.KeepAlive(cfg)
	cfg.SetMemoryInitCOWSet(true)
	return nil
}

func roundUp(n, to uint64) uint64 { return addSat(n, to-1) / to * to }

// mulSat and addSat saturate instead of wrapping, so absurd configurations
// fail Validate instead of looking small.
func mulSat(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

func addSat(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}
