package wasmpool

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// TestPagemapScanLayout: the layout probe must pass on the pinned
// wasmtime, or the PAGEMAP_SCAN reset silently stays off.
func TestPagemapScanLayout(t *testing.T) {
	err := PagemapScanAvailable()
	if errors.Is(err, ErrPagemapKernel) {
		t.Skipf("kernel without PAGEMAP_SCAN: %v", err) // the layout part passed
	}
	if err != nil {
		t.Fatal(err)
	}
}

// pagePresent reports whether the host page holding p is mapped.
func pagePresent(t *testing.T, p unsafe.Pointer) bool {
	t.Helper()
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skipf("no pagemap: %v", err)
	}
	defer f.Close()
	var b [8]byte
	if _, err := f.ReadAt(b[:], int64(uintptr(p)/4096*8)); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(b[:])&(1<<63) != 0
}

// TestPagemapScanResetsOnlyWrittenPages shows which reset the pool runs.
// A guest writes one page 1 MiB into its memory, beyond the 64 KiB kept
// resident. Without PAGEMAP_SCAN wasmtime copies the first 64 KiB and
// decommits the rest, so the written page is gone when the slot is
// reused; with it, wasmtime finds the one written page, copies it back
// and leaves it mapped. Either way the next instance must read the
// initial contents (isolation).
func TestPagemapScanResetsOnlyWrittenPages(t *testing.T) {
	if err := PagemapScanAvailable(); err != nil {
		t.Skipf("PAGEMAP_SCAN unavailable: %v", err)
	}
	const src = `(module
	  (memory (export "memory") 32)
	  (data (i32.const 0x100000) "\07")
	  (func (export "bump") (result i32)
	    (i32.store8 (i32.const 0x100000) (i32.add (i32.load8_u (i32.const 0x100000)) (i32.const 1)))
	    (i32.load8_u (i32.const 0x100000))))`
	for _, scan := range []bool{false, true} {
		cfg := wasmtime.NewConfig()
		if err := EnablePooling(cfg, PoolConfig{TotalCoreInstances: 2, LinearMemoryKeepResident: 64 << 10, NoPagemapScan: !scan}); err != nil {
			t.Fatal(err)
		}
		engine := wasmtime.NewEngineWithConfig(cfg)
		wasm, err := wasmtime.Wat2Wasm(src)
		if err != nil {
			t.Fatal(err)
		}
		mod, err := wasmtime.NewModule(engine, wasm)
		if err != nil {
			t.Fatal(err)
		}
		linker := wasmtime.NewLinker(engine)
		pre, err := NewInstancePre(linker, mod)
		if err != nil {
			t.Fatal(err)
		}
		var page unsafe.Pointer
		for i := 0; i < 4; i++ {
			store := wasmtime.NewStore(engine)
			inst, err := pre.Instantiate(store)
			if err != nil {
				t.Fatal(err)
			}
			mem, _ := LookupMemory(store, inst, "memory")
			p := unsafe.Pointer(&MemoryData(store, mem)[0x100000])
			if i > 0 {
				if p != page {
					t.Fatalf("scan=%v: the slot was not reused (%p, then %p)", scan, page, p)
				}
				if got := pagePresent(t, p); got != scan {
					t.Fatalf("scan=%v: written page present after reset = %v, want %v", scan, got, scan)
				}
			}
			page = p
			f, _ := LookupFunc(store, inst, "bump")
			if r, err := CallI32(store, f); err != nil || r != 8 {
				t.Fatalf("scan=%v, instance %d: bump = %d, %v; want 8 (state leaked between instances)", scan, i, r, err)
			}
			store.Close()
		}
		pre.Close()
		mod.Close()
		linker.Close()
		engine.Close()
	}
}
