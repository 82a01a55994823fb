// Helpers for call.go and host.go. Each does in one cgo call what
// wasmtime-go does in several, and keeps every value that wasmtime reads or
// writes in its own C frame: callers pass and receive plain values, no Go
// pointer crosses over. That matters for the calls into wasm above all:
// wasm may call Go host functions in the middle of them, and a goroutine
// stack may move then; a C frame lives on the thread's system stack, which
// does not move.
//
// header_test.go also compiles this file after wasmtime's own headers, so
// the field accesses below are checked against the upstream definitions.

#include "wasmpool.h"

#ifdef WASM_H
// Compiled after the upstream headers (header_test.go): the value kinds
// that host.go passes as numbers.
_Static_assert(WASM_I32 == 0 && WASM_I64 == 1 && WASM_F32 == 2 && WASM_F64 == 3,
               "wasm_valkind_t values");
#endif

// ---- Exports ----

// lookup finds an export by name. An empty Go string may come with a NULL
// pointer; wasmtime wants a valid one whatever the length.
static bool lookup(wasmtime_context_t *store, const wasmtime_instance_t *inst,
                   const char *name, size_t name_len, wasmtime_extern_t *item) {
  if (name == NULL) {
    name = "";
    name_len = 0;
  }
  return wasmtime_instance_export_get(store, inst, name, name_len, item);
}

wasmpool_func_lookup_t wasmpool_lookup_func(wasmtime_context_t *store,
                                            wasmtime_instance_t instance,
                                            const char *name,
                                            size_t name_len) {
  wasmpool_func_lookup_t r = {0};
  wasmtime_extern_t item;
  if (!lookup(store, &instance, name, name_len, &item)) {
    return r;
  }
  if (item.kind != WASMTIME_EXTERN_FUNC) {
    // Not handed out, so released here (only a shared memory owns
    // anything; for the other kinds this does nothing).
    wasmtime_extern_delete(&item);
    return r;
  }
  r.func = item.of.func; // a plain value, nothing to release
  r.ok = true;
  return r;
}

wasmpool_memory_lookup_t wasmpool_lookup_memory(wasmtime_context_t *store,
                                                wasmtime_instance_t instance,
                                                const char *name,
                                                size_t name_len) {
  wasmpool_memory_lookup_t r = {0};
  wasmtime_extern_t item;
  if (!lookup(store, &instance, name, name_len, &item)) {
    return r;
  }
  if (item.kind != WASMTIME_EXTERN_MEMORY) {
    wasmtime_extern_delete(&item);
    return r;
  }
  r.memory = item.of.memory;
  r.ok = true;
  return r;
}

wasmpool_memory_data_t wasmpool_memory_data(wasmtime_context_t *store,
                                            wasmtime_memory_t memory) {
  wasmpool_memory_data_t r;
  r.data = wasmtime_memory_data(store, &memory);
  r.size = wasmtime_memory_data_size(store, &memory);
  return r;
}

// ---- Frames ----
//
// A call into wasm made by this package pushes a frame naming the store it
// runs in and the slot of its Go frame (host.go), on this thread's stack of
// frames; it pops it when wasmtime returns. A host function defined with
// wasmpool_define_host runs on the same thread, below that call, and looks
// at the innermost frame: if it is for the caller's store, the Go side
// finds the store's data and records a host panic there, without locks.
// Frames live in the C frames of the calls below, which wasmtime always
// returns through (a trap unwinds only wasm frames), and Go host functions
// never unwind past them (host.go recovers every panic).

typedef struct wasmpool_frame {
  wasmtime_context_t *store;
  size_t slot;
  struct wasmpool_frame *prev;
} wasmpool_frame_t;

static _Thread_local wasmpool_frame_t *wasmpool_top;

wasmpool_call_result_t wasmpool_call_i32(wasmtime_context_t *store,
                                         wasmtime_func_t func,
                                         wasmpool_i32_args_t args, size_t nargs,
                                         size_t nresults, size_t frame) {
  wasmpool_call_result_t r = {0};
  wasmtime_val_t params[WASMPOOL_MAX_ARGS];
  wasmtime_val_t results[1];
  if (nargs > WASMPOOL_MAX_ARGS || nresults > 1) {
    // call.go never asks for this; refuse rather than overrun the arrays.
    r.result_kind = WASMPOOL_BAD_REQUEST;
    return r;
  }
  for (size_t i = 0; i < nargs; i++) {
    params[i].kind = WASMTIME_I32;
    params[i].of.i32 = args.v[i];
  }
  wasmpool_frame_t f = {store, frame, wasmpool_top};
  wasmpool_top = &f;
  // wasmtime checks the number and types of the arguments and the number
  // of results against the function's type before running anything.
  r.error = wasmtime_func_call(store, &func, params, nargs, results, nresults,
                               &r.trap);
  wasmpool_top = f.prev;
  if (r.error == NULL && r.trap == NULL && nresults == 1) {
    r.result_kind = results[0].kind;
    if (results[0].kind == WASMTIME_I32) {
      r.result = results[0].of.i32;
    } else {
      // Not returned to Go: release it (only GC references hold a root).
      wasmtime_val_unroot(&results[0]);
    }
  }
  return r;
}

wasmpool_instantiate_result_t
wasmpool_instantiate(const wasmtime_instance_pre_t *pre,
                     wasmtime_context_t *store, size_t frame) {
  wasmpool_instantiate_result_t r = {0};
  wasmpool_frame_t f = {store, frame, wasmpool_top};
  wasmpool_top = &f;
  r.error = wasmtime_instance_pre_instantiate(pre, store, &r.instance, &r.trap);
  wasmpool_top = f.prev;
  return r;
}

// The first instance provides every import of the second (package
// runtime's split modules: a data module defining the memory and
// re-exporting the host functions, then the code that imports them). Its
// exports are named "0", "1", ... in the order of the imports. The externs are plain values
// (functions and memories hold no GC reference), so nothing is deleted.
wasmpool_instantiate_result_t
wasmpool_instantiate_linked(const wasmtime_instance_pre_t *pre,
                            const wasmtime_module_t *module, size_t nimports,
                            wasmtime_context_t *store, size_t frame) {
  wasmpool_instantiate_result_t r = {0};
  wasmpool_frame_t f = {store, frame, wasmpool_top};
  wasmpool_top = &f;
  wasmtime_instance_t first;
  r.error = wasmtime_instance_pre_instantiate(pre, store, &first, &r.trap);
  if (r.error == NULL && r.trap == NULL) {
    wasmtime_extern_t imports[WASMPOOL_MAX_LINKED];
    size_t n = 0;
    // By name, "0", "1", ...: wasmtime_instance_export_nth walks every
    // export before the one asked for, which made this quadratic.
    char name[8];
    while (n < nimports && n < WASMPOOL_MAX_LINKED) {
      size_t len = 0;
      char digits[8];
      size_t v = n;
      do {
        digits[len++] = (char)('0' + v % 10);
        v /= 10;
      } while (v != 0);
      for (size_t i = 0; i < len; i++) {
        name[i] = digits[len - 1 - i];
      }
      if (!wasmtime_instance_export_get(store, &first, name, len,
                                        &imports[n])) {
        break;
      }
      n++;
    }
    // Fewer exports than imports: instance_new reports the mismatch.
    r.error = wasmtime_instance_new(store, module, imports, n, &r.instance,
                                    &r.trap);
  }
  wasmpool_top = f.prev;
  return r;
}

// ---- Host functions ----

// The Go side (host.go), declared here rather than through _cgo_export.h
// so that this file also compiles on its own (header_test.go).
extern wasm_trap_t *wasmpoolHostCall(size_t env, wasmtime_caller_t *caller,
                                     wasmtime_val_raw_t *args_and_results,
                                     size_t n, size_t frame);
extern void wasmpoolHostFinalize(size_t env);

static wasm_trap_t *host_trampoline(void *env, wasmtime_caller_t *caller,
                                    wasmtime_val_raw_t *args_and_results,
                                    size_t n) {
  size_t frame = WASMPOOL_NO_FRAME;
  wasmpool_frame_t *top = wasmpool_top;
  if (top != NULL && top->store == wasmtime_caller_context(caller)) {
    frame = top->slot;
  }
  return wasmpoolHostCall((size_t)env, caller, args_and_results, n, frame);
}

static void host_finalize(void *env) { wasmpoolHostFinalize((size_t)env); }

static void valtype_vec(wasm_valtype_vec_t *out, const wasm_valkind_t *kinds,
                        size_t n) {
  wasm_valtype_t *types[WASMPOOL_MAX_HOST_VALUES];
  for (size_t i = 0; i < n; i++) {
    types[i] = wasm_valtype_new(kinds[i]);
  }
  wasm_valtype_vec_new(out, n, types); // takes the valtypes
}

wasmtime_error_t *wasmpool_define_host(wasmtime_linker_t *linker,
                                       const char *module, size_t module_len,
                                       const char *name, size_t name_len,
                                       const wasm_valkind_t *params,
                                       size_t nparams,
                                       const wasm_valkind_t *results,
                                       size_t nresults, size_t env) {
  if (nparams > WASMPOOL_MAX_HOST_VALUES || nresults > WASMPOOL_MAX_HOST_VALUES) {
    return NULL; // host.go checks first; never reached
  }
  if (module == NULL) {
    module = "";
  }
  if (name == NULL) {
    name = "";
  }
  wasm_valtype_vec_t p, r;
  valtype_vec(&p, params, nparams);
  valtype_vec(&r, results, nresults);
  wasm_functype_t *ty = wasm_functype_new(&p, &r); // takes p and r
  // On failure wasmtime drops the callback at once, calling host_finalize.
  wasmtime_error_t *err = wasmtime_linker_define_func_unchecked(
      linker, module, module_len, name, name_len, ty, host_trampoline,
      (void *)env, host_finalize);
  wasm_functype_delete(ty); // the linker keeps its own copy
  return err;
}
