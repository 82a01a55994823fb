// Declarations of the few wasmtime C API items that package wasmpool calls
// and that wasmtime-go does not wrap.
//
// The definitions live in libwasmtime.a, which wasmtime-go's cgo LDFLAGS
// already put on the link line of every binary that imports it. This header
// deliberately does not #include <wasmtime.h>: cgo directives cannot name
// another module's directory portably (only ${SRCDIR}, this package's own
// directory, is available), so the prototypes are restated here.
//
// Every line below is copied from the headers that ship with the pinned
// wasmtime-go version (build/include/wasm.h and build/include/wasmtime/*.h).
// header_test.go compiles this file after the upstream headers, so a C
// compiler rejects any prototype or typedef that drifts ("conflicting types").
// The one struct defined by value, wasmtime_instance_t, is additionally
// compared field by field with wasmtime-go's copy at init (layout.go).

#ifndef WEDGE_WASMPOOL_H
#define WEDGE_WASMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Opaque handles (wasm.h, wasmtime/*.h). Repeating an identical typedef is
// valid C11, which is what lets header_test.go check them against upstream.
typedef struct wasm_config_t wasm_config_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_linker wasmtime_linker_t;
typedef struct wasmtime_module wasmtime_module_t;
typedef struct wasmtime_instance_pre wasmtime_instance_pre_t;
typedef struct wasmtime_pooling_allocation_config_t
    wasmtime_pooling_allocation_config_t;

// wasmtime/instance.h. A struct body may not be repeated in one translation
// unit, so it is skipped when the upstream header was included first (the
// conformance check); the prototypes below are then checked against the
// upstream definition.
#ifndef WASMTIME_INSTANCE_H
typedef struct wasmtime_instance {
  uint64_t store_id;
  size_t __private;
} wasmtime_instance_t;
#endif

// wasmtime/config.h: engine-wide linear memory layout.
void wasmtime_config_memory_reservation_set(wasm_config_t *, uint64_t);
void wasmtime_config_memory_guard_size_set(wasm_config_t *, uint64_t);

// wasmtime/config.h: the pooling allocator (WASMTIME_FEATURE_POOLING_ALLOCATOR
// is defined in the bundled wasmtime/conf.h).
wasmtime_pooling_allocation_config_t *wasmtime_pooling_allocation_config_new(void);
void wasmtime_pooling_allocation_config_delete(
    wasmtime_pooling_allocation_config_t *);
void wasmtime_pooling_allocation_config_max_unused_warm_slots_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_decommit_batch_size_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_table_keep_resident_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_total_memories_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_total_tables_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_total_stacks_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_total_core_instances_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_max_core_instance_size_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_max_tables_per_module_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_table_elements_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_max_memories_per_module_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_max_memory_size_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_total_gc_heaps_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_strategy_set(
    wasm_config_t *, const wasmtime_pooling_allocation_config_t *);

// wasmtime/linker.h and wasmtime/instance.h: pre-resolved instantiation.
wasmtime_error_t *wasmtime_linker_instantiate_pre(
    const wasmtime_linker_t *linker, const wasmtime_module_t *module,
    wasmtime_instance_pre_t **instance_pre);
void wasmtime_instance_pre_delete(wasmtime_instance_pre_t *instance_pre);
wasmtime_error_t *wasmtime_instance_pre_instantiate(
    const wasmtime_instance_pre_t *instance_pre, wasmtime_context_t *store,
    wasmtime_instance_t *instance, wasm_trap_t **trap_ptr);

#endif // WEDGE_WASMPOOL_H
