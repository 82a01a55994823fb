package wasmpool

// int wasmpool_pagemap_scan_layout_ok(void);
// int wasmpool_pagemap_scan_kernel(void);
// #include <stdint.h>
// uint32_t wasmpool_pagemap_layout_id(void);
import "C"

import "errors"

// Errors of PagemapScanAvailable.
var (
	// ErrPagemapLayout: the linked libwasmtime's pooling configuration is
	// not laid out as pagemap.c was written against, so the switch cannot
	// be found safely (another wasmtime build, another platform).
	ErrPagemapLayout = errors.New("wasmpool: wasmtime's pooling configuration layout is unknown; PAGEMAP_SCAN reset stays off")
	// ErrPagemapKernel: the kernel lacks the PAGEMAP_SCAN ioctl (Linux
	// 6.7 and later have it) or /proc/self/pagemap is not readable.
	ErrPagemapKernel = errors.New("wasmpool: the kernel has no PAGEMAP_SCAN ioctl; freed memories are reset by copying their first keep-resident bytes")
)

// PagemapScanAvailable reports whether EnablePooling turns on wasmtime's
// PAGEMAP_SCAN reset (unless PoolConfig.NoPagemapScan) and whether it
// takes effect: nil when both the configuration layout and the kernel
// allow it.
//
// With it, a freed memory slot is reset by asking the kernel which pages
// the instance wrote (present, private, not the zero page, not a page of
// the image file) and copying the image back over only those, up to
// LinearMemoryKeepResident bytes; the rest of the memory is left mapped
// as it was. Without it, wasmtime copies (or zeroes) the first
// LinearMemoryKeepResident bytes of the memory whatever the instance
// touched, and decommits the rest with madvise, so the next instance
// faults those pages in again. A scan that finds more written pages than
// LinearMemoryKeepResident, or more than 32 separate runs of them, falls
// back to decommitting everything after the last run it reported: reset
// stays complete either way.
func PagemapScanAvailable() error {
	if C.wasmpool_pagemap_scan_layout_ok() == 0 {
		return ErrPagemapLayout
	}
	if C.wasmpool_pagemap_scan_kernel() == 0 {
		return ErrPagemapKernel
	}
	return nil
}

// pagemapLayoutID identifies the pooling configuration layout pagemap.c
// was written against (0 where the switch is not built).
func pagemapLayoutID() uint32 { return uint32(C.wasmpool_pagemap_layout_id()) }
