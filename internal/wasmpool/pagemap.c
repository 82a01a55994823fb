// Turning on wasmtime's PAGEMAP_SCAN reset of pooled memories, which the
// C API of wasmtime 39 has no setter for. See pagemap.go.

#include <stdint.h>
#include <string.h>
#include "wasmpool.h"

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>

// Layout of wasmtime 39.0.1's PoolingInstanceAllocatorConfig, the only
// field of the boxed wasmtime_pooling_allocation_config_t, as built into
// the libwasmtime.a wasmtime-go v39.0.1 links (read from that library:
// every field with a C setter found by setting it, the rest by elimination
// against the Rust source). Bytes 76..79 and 135 are padding.
#define WP_CONFIG_BYTES 135
#define WP_OFF_PAGEMAP_SCAN 133

// Defaults of a new config, byte for byte (padding excluded).
static const uint8_t wp_default_layout[WP_CONFIG_BYTES] = {
    0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, // 0 component instance size 1 MiB
    0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, // 8 max_core_instance_size 1 MiB
    0x20, 0x4e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 16 table_elements 20,000
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // 24 max_memory_size 4 GiB
    0xe8, 0x03, 0x00, 0x00, 0xe8, 0x03, 0x00, 0x00, // 32 total component instances, core instances
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // 40 per-component limits
    0xff, 0xff, 0xff, 0xff, 0xe8, 0x03, 0x00, 0x00, // 48 per-component limit, total_memories
    0xe8, 0x03, 0x00, 0x00, 0xe8, 0x03, 0x00, 0x00, // 56 total_tables, total_stacks
    0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // 64 max_tables_per_module, max_memories_per_module
    0xe8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 72 total_gc_heaps, padding
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 80 decommit_batch_size
    0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, // 88 async stack size 2 MiB
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 96 async_stack_keep_resident
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 104 linear_memory_keep_resident
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 112 table_keep_resident
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 120 max_memory_protection_keys 16
    0x64, 0x00, 0x00, 0x00,                         // 128 max_unused_warm_slots 100
    0x02,                                           // 132 memory_protection_keys: Enabled::No
    0x02,                                           // 133 pagemap_scan: Enabled::No
    0x00,                                           // 134 async_stack_zeroing: false
};

static int wp_is_padding(size_t i) { return (i >= 76 && i < 80); }

// wp_matches compares p with want, skipping padding.
static int wp_matches(const uint8_t *p, const uint8_t *want) {
	for (size_t i = 0; i < WP_CONFIG_BYTES; i++) {
		if (!wp_is_padding(i) && p[i] != want[i]) {
			return 0;
		}
	}
	return 1;
}

// wp_probe checks, on a config of its own, that every setter writes where
// the layout above says, and that nothing else moves.
static int wp_probe(void) {
	wasmtime_pooling_allocation_config_t *c = wasmtime_pooling_allocation_config_new();
	uint8_t *p = (uint8_t *)c;
	// glibc hands out 136 usable bytes for requests of 121 to 136 bytes:
	// this pins the struct's size as well as its bytes.
	int ok = malloc_usable_size(c) == WP_CONFIG_BYTES + 1 && wp_matches(p, wp_default_layout);
	if (ok) {
		uint8_t want[WP_CONFIG_BYTES];
		memcpy(want, wp_default_layout, sizeof want);
#define WP_SET(fn, off, size, v)                                           \
	do {                                                                   \
		wasmtime_pooling_allocation_config_##fn##_set(c, v);               \
		uint64_t x = (uint64_t)(v);                                        \
		memcpy(want + (off), &x, (size));                                  \
	} while (0)
		WP_SET(max_core_instance_size, 8, 8, 0x1111111111111111ull);
		WP_SET(table_elements, 16, 8, 0x2222222222222222ull);
		WP_SET(max_memory_size, 24, 8, 0x3333333333333333ull);
		WP_SET(total_core_instances, 36, 4, 0x44444444u);
		WP_SET(total_memories, 52, 4, 0x55555555u);
		WP_SET(total_tables, 56, 4, 0x66666666u);
		WP_SET(total_stacks, 60, 4, 0x77777777u);
		WP_SET(max_tables_per_module, 64, 4, 0x88888888u);
		WP_SET(max_memories_per_module, 68, 4, 0x99999999u);
		WP_SET(total_gc_heaps, 72, 4, 0xaaaaaaaau);
		WP_SET(decommit_batch_size, 80, 8, 0xbbbbbbbbbbbbbbbbull);
		WP_SET(linear_memory_keep_resident, 104, 8, 0xccccccccccccccccull);
		WP_SET(table_keep_resident, 112, 8, 0xddddddddddddddddull);
		WP_SET(max_unused_warm_slots, 128, 4, 0xeeeeeeeeu);
#undef WP_SET
		ok = wp_matches(p, want);
	}
	wasmtime_pooling_allocation_config_delete(c);
	return ok;
}

int wasmpool_pagemap_scan_layout_ok(void) { return wp_probe(); }

// wasmpool_pagemap_layout_id is an FNV-1a hash of the layout above and the
// switch's offset: part of the engine identity (identity.go).
uint32_t wasmpool_pagemap_layout_id(void) {
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < WP_CONFIG_BYTES; i++) {
		h = (h ^ wp_default_layout[i]) * 16777619u;
	}
	return (h ^ WP_OFF_PAGEMAP_SCAN) * 16777619u;
}

// wasmpool_pagemap_scan_auto sets c's pagemap_scan to Enabled::Auto (0):
// wasmtime then uses the PAGEMAP_SCAN ioctl where the kernel has it (Linux
// 6.7 and later) and its usual reset elsewhere. It returns 0 and changes
// nothing unless the layout probe passes and the byte still holds
// Enabled::No.
int wasmpool_pagemap_scan_auto(wasmtime_pooling_allocation_config_t *c) {
	uint8_t *p = (uint8_t *)c;
	if (!wp_probe() || malloc_usable_size(c) != WP_CONFIG_BYTES + 1 ||
	    p[WP_OFF_PAGEMAP_SCAN] != wp_default_layout[WP_OFF_PAGEMAP_SCAN]) {
		return 0;
	}
	p[WP_OFF_PAGEMAP_SCAN] = 0;
	return 1;
}

// struct pm_scan_arg of <linux/fs.h> (Linux 6.7), restated so that older
// headers build.
struct wp_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define WP_PAGEMAP_SCAN _IOWR('f', 16, struct wp_pm_scan_arg)

// wasmpool_pagemap_scan_kernel reports whether the kernel has the
// PAGEMAP_SCAN ioctl, with the probe wasmtime itself makes (an empty
// range).
int wasmpool_pagemap_scan_kernel(void) {
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return 0;
	}
	struct wp_pm_scan_arg arg;
	memset(&arg, 0, sizeof arg);
	arg.size = sizeof arg;
	arg.max_pages = 1;
	arg.category_mask = 0xff; // every category wasmtime's probe names
	int ok = ioctl(fd, WP_PAGEMAP_SCAN, &arg) >= 0;
	close(fd);
	return ok;
}

#else
// PAGEMAP_SCAN is Linux-only, and the probe needs glibc's
// malloc_usable_size: elsewhere the reset stays wasmtime's default.
int wasmpool_pagemap_scan_layout_ok(void) { return 0; }
uint32_t wasmpool_pagemap_layout_id(void) { return 0; }
int wasmpool_pagemap_scan_auto(wasmtime_pooling_allocation_config_t *c) { (void)c; return 0; }
int wasmpool_pagemap_scan_kernel(void) { return 0; }
#endif
