// Declarations of the few wasmtime C API items that package wasmpool calls
// and that wasmtime-go does not wrap.
//
// The definitions live in libwasmtime.a, which wasmtime-go's cgo LDFLAGS
// already put on the link line of every binary that imports it. This header
// deliberately does not #include <wasmtime.h>: cgo directives cannot name
// another module's directory portably (only ${SRCDIR}, this package's own
// directory, is available), so the prototypes are restated here.
//
// Every wasm*/wasmtime* line below is copied from the headers that ship
// with the pinned wasmtime-go version (build/include/wasm.h and
// build/include/wasmtime/*.h); the wasmpool_* items at the end are this
// package's own (call.c). header_test.go compiles this file and call.c
// after the upstream headers, so a C compiler rejects any prototype or
// typedef that drifts ("conflicting types"). Struct bodies cannot be
// repeated in one translation unit, so they are skipped in that
// compilation; instead the _Static_asserts below pin the sizes and offsets
// used, and hold both for these definitions (every build) and for the
// upstream ones (the test). The structs that wasmtime-go also embeds
// (wasmtime_instance_t, wasmtime_func_t, wasmtime_memory_t) are
// additionally compared field by field with wasmtime-go's copies at init
// (layout.go).

#ifndef WEDGE_WASMPOOL_H
#define WEDGE_WASMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Opaque handles (wasm.h, wasmtime/*.h). Repeating an identical typedef is
// valid C11, which is what lets header_test.go check them against upstream.
typedef struct wasm_config_t wasm_config_t;
typedef struct wasm_engine_t wasm_engine_t;
typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_linker wasmtime_linker_t;
typedef struct wasmtime_module wasmtime_module_t;
typedef struct wasmtime_instance_pre wasmtime_instance_pre_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef struct wasm_valtype_t wasm_valtype_t;
typedef struct wasm_functype_t wasm_functype_t;
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

// wasmtime/extern.h: store-owned items as plain values. As for
// wasmtime_instance_t, the bodies are skipped when the upstream header came
// first; the _Static_asserts after the #endif then check the upstream
// definitions against the same numbers as ours (header_test.go), and
// layout.go compares wasmtime_func_t and wasmtime_memory_t with
// wasmtime-go's copies (Func.val, Memory.val) at init.
#ifndef WASMTIME_EXTERN_H
typedef struct wasmtime_func {
  uint64_t store_id;
  void *__private;
} wasmtime_func_t;

typedef struct wasmtime_table {
  struct {
    uint64_t store_id;
    uint32_t __private1;
  };
  uint32_t __private2;
} wasmtime_table_t;

typedef struct wasmtime_memory {
  struct {
    uint64_t store_id;
    uint32_t __private1;
  };
  uint32_t __private2;
} wasmtime_memory_t;

typedef struct wasmtime_global {
  uint64_t store_id;
  uint32_t __private1;
  uint32_t __private2;
  uint32_t __private3;
} wasmtime_global_t;

typedef uint8_t wasmtime_extern_kind_t;
#define WASMTIME_EXTERN_FUNC 0
#define WASMTIME_EXTERN_GLOBAL 1
#define WASMTIME_EXTERN_TABLE 2
#define WASMTIME_EXTERN_MEMORY 3
#define WASMTIME_EXTERN_SHAREDMEMORY 4

typedef union wasmtime_extern_union {
  wasmtime_func_t func;
  wasmtime_global_t global;
  wasmtime_table_t table;
  wasmtime_memory_t memory;
  struct wasmtime_sharedmemory *sharedmemory;
} wasmtime_extern_union_t;

typedef struct wasmtime_extern {
  wasmtime_extern_kind_t kind;
  wasmtime_extern_union_t of;
} wasmtime_extern_t;
#endif

// wasm.h and wasmtime/val.h: call arguments and results.
typedef float float32_t;
typedef double float64_t;

#ifndef WASMTIME_VAL_H
typedef struct wasmtime_anyref {
  uint64_t store_id;
  uint32_t __private1;
  uint32_t __private2;
  void *__private3;
} wasmtime_anyref_t;

typedef struct wasmtime_externref {
  uint64_t store_id;
  uint32_t __private1;
  uint32_t __private2;
  void *__private3;
} wasmtime_externref_t;

typedef uint8_t wasmtime_valkind_t;
#define WASMTIME_I32 0
#define WASMTIME_I64 1
#define WASMTIME_F32 2
#define WASMTIME_F64 3
#define WASMTIME_V128 4
#define WASMTIME_FUNCREF 5
#define WASMTIME_EXTERNREF 6
#define WASMTIME_ANYREF 7

typedef uint8_t wasmtime_v128[16];

typedef union wasmtime_valunion {
  int32_t i32;
  int64_t i64;
  float32_t f32;
  float64_t f64;
  wasmtime_anyref_t anyref;
  wasmtime_externref_t externref;
  wasmtime_func_t funcref;
  wasmtime_v128 v128;
} wasmtime_valunion_t;

typedef struct wasmtime_val {
  wasmtime_valkind_t kind;
  wasmtime_valunion_t of;
} wasmtime_val_t;
#endif

// The layout the helpers in call.c rely on, as numbers. These lines are
// compiled against this file's definitions in every build and against the
// upstream definitions by TestHeaderMatchesUpstream, so the two agree.
// wasmtime-go only supports 64-bit targets.
_Static_assert(sizeof(void *) == 8, "wasmpool: 64-bit targets only");
_Static_assert(sizeof(wasmtime_func_t) == 16 && _Alignof(wasmtime_func_t) == 8 &&
                   offsetof(wasmtime_func_t, store_id) == 0,
               "wasmtime_func_t layout");
_Static_assert(sizeof(wasmtime_memory_t) == 24 && _Alignof(wasmtime_memory_t) == 8 &&
                   offsetof(wasmtime_memory_t, store_id) == 0,
               "wasmtime_memory_t layout");
_Static_assert(sizeof(wasmtime_extern_t) == 32 && _Alignof(wasmtime_extern_t) == 8 &&
                   offsetof(wasmtime_extern_t, kind) == 0 &&
                   sizeof(((wasmtime_extern_t *)0)->kind) == 1 &&
                   offsetof(wasmtime_extern_t, of) == 8 &&
                   offsetof(wasmtime_extern_t, of.func) == 8 &&
                   offsetof(wasmtime_extern_t, of.memory) == 8,
               "wasmtime_extern_t layout");
_Static_assert(WASMTIME_EXTERN_FUNC == 0 && WASMTIME_EXTERN_MEMORY == 3,
               "wasmtime_extern_kind_t values");
_Static_assert(sizeof(wasmtime_val_t) == 32 && _Alignof(wasmtime_val_t) == 8 &&
                   offsetof(wasmtime_val_t, kind) == 0 &&
                   sizeof(((wasmtime_val_t *)0)->kind) == 1 &&
                   offsetof(wasmtime_val_t, of) == 8 &&
                   offsetof(wasmtime_val_t, of.i32) == 8 &&
                   sizeof(((wasmtime_val_t *)0)->of.i32) == 4,
               "wasmtime_val_t layout");
_Static_assert(WASMTIME_I32 == 0, "wasmtime_valkind_t values");

// wasmtime/engine.h and store.h: epoch interruption.
void wasmtime_engine_increment_epoch(wasm_engine_t *engine);
typedef uint8_t wasmtime_update_deadline_kind_t;
#define WASMTIME_UPDATE_DEADLINE_CONTINUE 0
void wasmtime_store_epoch_deadline_callback(
    wasmtime_store_t *store,
    wasmtime_error_t *(*func)(wasmtime_context_t *context, void *data,
                              uint64_t *epoch_deadline_delta,
                              wasmtime_update_deadline_kind_t *update_kind),
    void *data, void (*finalizer)(void *));
void wasmtime_context_set_epoch_deadline(wasmtime_context_t *context,
                                         uint64_t ticks_beyond_current);
wasmtime_error_t *wasmtime_error_new(const char *);

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

// wasmtime/extern.h, wasmtime/instance.h, wasmtime/func.h and
// wasmtime/val.h: export lookup and calls.
void wasmtime_extern_delete(wasmtime_extern_t *val);
wasmtime_error_t *wasmtime_instance_new(wasmtime_context_t *store,
                                        const wasmtime_module_t *module,
                                        const wasmtime_extern_t *imports,
                                        size_t nimports,
                                        wasmtime_instance_t *instance,
                                        wasm_trap_t **trap);
bool wasmtime_instance_export_get(wasmtime_context_t *store,
                                  const wasmtime_instance_t *instance,
                                  const char *name, size_t name_len,
                                  wasmtime_extern_t *item);
wasmtime_error_t *wasmtime_func_call(wasmtime_context_t *store,
                                     const wasmtime_func_t *func,
                                     const wasmtime_val_t *args, size_t nargs,
                                     wasmtime_val_t *results, size_t nresults,
                                     wasm_trap_t **trap);
void wasmtime_val_unroot(wasmtime_val_t *val);
uint8_t *wasmtime_memory_data(const wasmtime_context_t *store,
                              const wasmtime_memory_t *memory);
size_t wasmtime_memory_data_size(const wasmtime_context_t *store,
                                 const wasmtime_memory_t *memory);
wasmtime_context_t *wasmtime_caller_context(wasmtime_caller_t *caller);

// wasm.h: function types, for host functions.
typedef uint8_t wasm_valkind_t;
#ifndef WASM_H
typedef struct wasm_valtype_vec_t {
  size_t size;
  wasm_valtype_t **data;
} wasm_valtype_vec_t;
#endif
wasm_valtype_t *wasm_valtype_new(wasm_valkind_t);
void wasm_valtype_vec_new(wasm_valtype_vec_t *out, size_t,
                          wasm_valtype_t *const[]);
wasm_functype_t *wasm_functype_new(wasm_valtype_vec_t *params,
                                   wasm_valtype_vec_t *results);
void wasm_functype_delete(wasm_functype_t *);

// wasmtime/val.h, wasmtime/func.h and wasmtime/linker.h: host functions
// with raw arguments.
#ifndef WASMTIME_VAL_H
typedef union wasmtime_val_raw {
  int32_t i32;
  int64_t i64;
  float32_t f32;
  float64_t f64;
  wasmtime_v128 v128;
  uint32_t anyref;
  uint32_t externref;
  void *funcref;
} wasmtime_val_raw_t;
#endif
_Static_assert(sizeof(wasmtime_val_raw_t) == 16 && _Alignof(wasmtime_val_raw_t) == 8,
               "wasmtime_val_raw_t layout");
typedef wasm_trap_t *(*wasmtime_func_unchecked_callback_t)(
    void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results,
    size_t num_args_and_results);
wasmtime_error_t *wasmtime_linker_define_func_unchecked(
    wasmtime_linker_t *linker, const char *module, size_t module_len,
    const char *name, size_t name_len, const wasm_functype_t *ty,
    wasmtime_func_unchecked_callback_t cb, void *data,
    void (*finalizer)(void *));

// This package's own helpers, defined in call.c. They take and return
// values only, never Go pointers: everything wasmtime reads or writes
// during a call lives in their C frame (see call.go).

// WASMPOOL_MAX_ARGS is how many i32 arguments wasmpool_call_i32 passes.
#define WASMPOOL_MAX_ARGS 8
// WASMPOOL_MAX_HOST_VALUES bounds the parameters and the results of a host
// function defined with wasmpool_define_host.
#define WASMPOOL_MAX_HOST_VALUES 32
// WASMPOOL_NO_FRAME is the frame slot of a call that has none (host.go).
#define WASMPOOL_NO_FRAME ((size_t)-1)
// WASMPOOL_BAD_REQUEST is the result_kind of a call refused because nargs
// or nresults was out of range; nothing ran.
#define WASMPOOL_BAD_REQUEST 0xff

typedef struct wasmpool_i32_args {
  int32_t v[WASMPOOL_MAX_ARGS];
} wasmpool_i32_args_t;

typedef struct wasmpool_func_lookup {
  wasmtime_func_t func;
  bool ok;
} wasmpool_func_lookup_t;

typedef struct wasmpool_memory_lookup {
  wasmtime_memory_t memory;
  bool ok;
} wasmpool_memory_lookup_t;

typedef struct wasmpool_call_result {
  wasmtime_error_t *error; // owned by the caller, or NULL
  wasm_trap_t *trap;       // owned by the caller, or NULL
  int32_t result;          // the i32 result, if result_kind is WASMTIME_I32
  wasmtime_valkind_t result_kind; // kind of the result, if nresults was 1
} wasmpool_call_result_t;

typedef struct wasmpool_instantiate_result {
  wasmtime_instance_t instance; // valid if error and trap are NULL
  wasmtime_error_t *error;      // owned by the caller, or NULL
  wasm_trap_t *trap;            // owned by the caller, or NULL
} wasmpool_instantiate_result_t;

typedef struct wasmpool_memory_data {
  uint8_t *data;
  size_t size;
} wasmpool_memory_data_t;

wasmpool_func_lookup_t wasmpool_lookup_func(wasmtime_context_t *store,
                                            wasmtime_instance_t instance,
                                            const char *name, size_t name_len);
wasmpool_memory_lookup_t wasmpool_lookup_memory(wasmtime_context_t *store,
                                                wasmtime_instance_t instance,
                                                const char *name,
                                                size_t name_len);
wasmpool_memory_data_t wasmpool_memory_data(wasmtime_context_t *store,
                                            wasmtime_memory_t memory);

// The calls into wasm take the slot of the Go frame (host.go) that host
// functions called during them use, or WASMPOOL_NO_FRAME.
wasmpool_call_result_t wasmpool_call_i32(wasmtime_context_t *store,
                                         wasmtime_func_t func,
                                         wasmpool_i32_args_t args, size_t nargs,
                                         size_t nresults, size_t frame);
wasmpool_instantiate_result_t
wasmpool_instantiate(const wasmtime_instance_pre_t *pre,
                     wasmtime_context_t *store, size_t frame);

// WASMPOOL_MAX_LINKED bounds the imports wasmpool_instantiate_linked passes.
#define WASMPOOL_MAX_LINKED 256

// wasmpool_instantiate_linked instantiates pre's module, then module with
// the first nimports exports of that instance, in export order, as its
// imports; it returns the second instance.
wasmpool_instantiate_result_t
wasmpool_instantiate_linked(const wasmtime_instance_pre_t *pre,
                            const wasmtime_module_t *module, size_t nimports,
                            wasmtime_context_t *store, size_t frame);

// wasmpool_define_host defines module.name in linker as a host function
// with the given parameter and result kinds (WASM_I32 .. WASM_F64, at most
// WASMPOOL_MAX_HOST_VALUES each), whose calls go to the Go function
// wasmpoolHostCall (host.go) with env, and whose finalizer calls
// wasmpoolHostFinalize(env).
wasmtime_error_t *wasmpool_define_host(wasmtime_linker_t *linker,
                                       const char *module, size_t module_len,
                                       const char *name, size_t name_len,
                                       const wasm_valkind_t *params,
                                       size_t nparams,
                                       const wasm_valkind_t *results,
                                       size_t nresults, size_t env);

// The epoch ticker (ticker.c, ticker.go): a native thread that keeps an
// engine's epoch in step with CLOCK_MONOTONIC. active and synced are read
// and written by Go with sync/atomic (the Go side never calls C for them).
typedef struct wasmpool_ticker {
  int64_t active; // invocations in flight, maintained by Go
  int64_t synced; // CLOCK_MONOTONIC ns the epoch is in step with; -1 parked
  int64_t tick_ns;
  int64_t grace_ns;
  int stop;
  wasm_engine_t *engine;
  void *thread; // pthread_t, kept opaque so this header needs no pthread.h
  void *mu;     // pthread_mutex_t *
  void *cv;     // pthread_cond_t *
} wasmpool_ticker_t;

// wasmpool_ticker_start allocates a ticker and starts its thread; it
// returns NULL if the thread could not be created. *now receives the
// clock reading the ticker started from.
wasmpool_ticker_t *wasmpool_ticker_start(wasm_engine_t *engine,
                                         int64_t tick_ns, int64_t grace_ns,
                                         int64_t *now);
// wasmpool_ticker_deadline gives the store a wall-clock deadline
// (CLOCK_MONOTONIC ns): the guest is checked every slice ticks, yields
// its core at each check, and fails with an "interrupt" error at the
// first check past the deadline.
void wasmpool_ticker_deadline(wasmpool_ticker_t *t, wasmtime_store_t *store,
                              wasmtime_context_t *context, int64_t deadline_ns,
                              int64_t slice_ticks);
// wasmpool_ticker_wake wakes a parked ticker.
void wasmpool_ticker_wake(wasmpool_ticker_t *t);
// wasmpool_ticker_stop stops the thread, waits for it and frees t.
void wasmpool_ticker_stop(wasmpool_ticker_t *t);

#endif // WEDGE_WASMPOOL_H
