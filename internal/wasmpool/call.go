package wasmpool

// #include "wasmpool.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// The call path: export lookup and calls with i32 arguments that cost no
// finalizer and, for calls, no Go allocation.
//
// wasmtime-go's GetExport wraps every result in an *Extern with a
// finalizer, GetFunc goes through GetExport, and Func.Call builds a
// *FuncType (finalizer) and its *ValTypes on every call to convert
// interface{} arguments. Registering and running those finalizers was the
// largest single cost of a small request. The functions below make the
// same C calls (wasmtime_instance_export_get, wasmtime_func_call) through
// the helpers in call.c and return the same wasmtime-go values: *Func and
// *Memory are plain (store id, index) values that wasmtime-go itself
// creates without a finalizer, and failures are the *wasmtime.Trap and
// *wasmtime.Error that Func.Call returns.
//
// If the layout check for this path failed (see layout.go and
// FastPathErr), every function here quietly uses wasmtime-go's public API
// instead, with the same results and the old costs.

// MaxArgs is the number of i32 arguments Call and CallI32 pass on the
// fast path; calls with more take Func.Call.
const MaxArgs = C.WASMPOOL_MAX_ARGS

// ErrResultType is wrapped by the error CallI32 returns when the function
// returned a value that is not an i32. The function has run by then.
var ErrResultType = errors.New("wasmpool: result is not an i32")

// FastPathErr returns nil if the lookups, calls and host functions of this
// package (LookupFunc, LookupMemory, MemoryData, Call, CallI32,
// DefineFunc) use their fast path, or the errors (wrapping ErrLayout) that
// made some of them fall back to wasmtime-go's public API. It is meant for
// a start-up log line and for tests; the functions work either way.
func FastPathErr() error { return errors.Join(callLayoutErr, hostLayoutErr) }

// LookupFunc returns the function instance exports under name, like
// inst.GetFunc(store, name) but without the *Extern and its finalizer. It
// reports false if there is no such export or it is not a function.
//
// The *wasmtime.Func is an ordinary wasmtime-go value (it has no
// finalizer, as with GetFunc) and may be used with Func.Call as well as
// with Call and CallI32. Like every item of a store it must only be used
// with that store, and not after the store is closed.
func LookupFunc(store wasmtime.Storelike, inst *wasmtime.Instance, name string) (*wasmtime.Func, bool) {
	if callLayoutErr != nil {
		f := inst.GetFunc(store, name)
		return f, f != nil
	}
	ctx := contextPtr(store)
	r := C.wasmpool_lookup_func(ctx, *instanceVal(inst), cString(name), C.size_t(len(name)))
	runtime.KeepAlive(store)
	if !r.ok {
		return nil, false
	}
	return newFunc(r._func), true
}

// LookupMemory returns the memory inst exports under name, like
// inst.GetExport(store, name).Memory() but without the *Extern and its
// finalizer. It reports false if there is no such export or it is not a
// memory. The same rules as for LookupFunc apply.
func LookupMemory(store wasmtime.Storelike, inst *wasmtime.Instance, name string) (*wasmtime.Memory, bool) {
	if callLayoutErr != nil {
		if ext := inst.GetExport(store, name); ext != nil {
			if m := ext.Memory(); m != nil {
				return m, true
			}
		}
		return nil, false
	}
	ctx := contextPtr(store)
	r := C.wasmpool_lookup_memory(ctx, *instanceVal(inst), cString(name), C.size_t(len(name)))
	runtime.KeepAlive(store)
	if !r.ok {
		return nil, false
	}
	return newMemory(r.memory), true
}

// MemoryData returns the contents of mem, like mem.UnsafeData(store), with
// one cgo call instead of four. As with UnsafeData, the slice aliases the
// wasm memory: it is valid only until wasm runs again in the store (a
// memory.grow may move the memory) and only while the store is open.
func MemoryData(store wasmtime.Storelike, mem *wasmtime.Memory) []byte {
	if callLayoutErr != nil {
		return mem.UnsafeData(store)
	}
	ctx := contextPtr(store)
	r := C.wasmpool_memory_data(ctx, memoryVal(mem))
	runtime.KeepAlive(store)
	if r.data == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(r.data)), int(r.size))
}

// cString passes the bytes of s to C for the duration of a call, without
// copying (C._GoStringPtr would be a cgo call of its own). The pointer is
// nil for an empty string; call.c handles that.
func cString(s string) *C.char {
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s)))
}

// Call calls f, a function with i32 parameters and no results, such as
// _initialize or _start, with args. CallI32 is the same for a function
// returning one i32. Neither allocates on success.
//
// Failures are what Func.Call returns, and with the same precedence:
//
//   - a *wasmtime.Trap when wasm trapped, including when the store's epoch
//     deadline interrupted it (trap.Code() is then wasmtime.Interrupt);
//   - a *wasmtime.Error otherwise: the wrong number or types of arguments
//     or results (checked by wasmtime before anything runs), or a host
//     function that returned a *wasmtime.Trap (the C API reports that as
//     an error).
//
// As with Func.Call, a closed *wasmtime.Store panics, and a function of
// another store makes wasmtime abort the process.
//
// If a Go host function panics during the call, Call panics with the same
// value once wasm has unwound, as Func.Call does, so a recover around the
// request sees it as before. For host functions defined with DefineFunc
// the panic is recorded in the call's frame (host.go). For those defined
// through wasmtime-go (FuncNew, FuncWrap, NewFunc, WrapFunc), wasmtime-go's
// trampoline keeps the value in the store's private data and makes wasm
// trap with "go panicked"; only wasmtime-go's enterWasm can take it from
// there, so on the failure path Call calls an empty host function through
// Func.Call, whose enterWasm re-panics. (Returning the "go panicked" trap
// instead would leave the value behind, to be raised by the next
// wasmtime-go call on the store, somewhere unrelated.) The one case this
// cannot see is a wasmtime-go host function that both succeeds and
// records a panic, which its FuncWrap does for a *Trap returned twice:
// Func.Call would panic there, Call succeeds and the next wasmtime-go call
// on the store panics.
//
// With more than MaxArgs arguments, or if the fast path is disabled
// (FastPathErr), the call goes through Func.Call.
func Call(store wasmtime.Storelike, f *wasmtime.Func, args ...int32) error {
	if f == nil {
		return errNilFunc
	}
	if callLayoutErr != nil || len(args) > MaxArgs {
		v, err := f.Call(store, boxArgs(args)...)
		if err == nil && v != nil {
			return fmt.Errorf("%w: the function returned %T", ErrResultType, v)
		}
		return err
	}
	r := fastCall(store, f, args, 0)
	return r.err(store)
}

// CallI32 calls f, a function with i32 parameters and one i32 result,
// with args and returns its result. See Call for errors and panics. If f
// returns another type of value, CallI32 returns an error wrapping
// ErrResultType; f has run by then (wasmtime checks only the number of
// results before the call).
func CallI32(store wasmtime.Storelike, f *wasmtime.Func, args ...int32) (int32, error) {
	if f == nil {
		return 0, errNilFunc
	}
	if callLayoutErr != nil || len(args) > MaxArgs {
		v, err := f.Call(store, boxArgs(args)...)
		if err != nil {
			return 0, err
		}
		if r, ok := v.(int32); ok {
			return r, nil
		}
		return 0, fmt.Errorf("%w: the function returned %T", ErrResultType, v)
	}
	r := fastCall(store, f, args, 1)
	if err := r.err(store); err != nil {
		return 0, err
	}
	if r.r.result_kind != C.WASMTIME_I32 {
		return 0, fmt.Errorf("%w: the function returned a value of wasmtime kind %d", ErrResultType, r.r.result_kind)
	}
	return int32(r.r.result), nil
}

var errNilFunc = errors.New("wasmpool: nil *wasmtime.Func")

// fastCall runs f through wasmpool_call_i32. The arguments are copied into a
// C struct passed by value and the results come back by value: while wasm
// runs, host functions run Go code on this goroutine, so nothing that C
// writes to may be on the goroutine stack, and Go heap memory would cost an
// allocation per call. The call runs under a frame (host.go) for the host
// functions defined with DefineFunc.
func fastCall(store wasmtime.Storelike, f *wasmtime.Func, args []int32, nresults int) callResult {
	var a C.wasmpool_i32_args_t
	for i, v := range args {
		a.v[i] = C.int32_t(v)
	}
	ctx := contextPtr(store)
	slot := frames.claim(ctx)
	r := C.wasmpool_call_i32(ctx, funcVal(f), a, C.size_t(len(args)), C.size_t(nresults), slot)
	runtime.KeepAlive(store)
	panicked, v := frames.release(slot)
	if r.result_kind == C.WASMPOOL_BAD_REQUEST {
		panic("wasmpool: call helper refused its arguments") // unreachable: checked above
	}
	return callResult{r: r, panicked: panicked, panicVal: v}
}

type callResult struct {
	r        C.wasmpool_call_result_t
	panicked bool // a DefineFunc host function panicked with panicVal
	panicVal any
}

// err takes ownership of the trap and error the call returned and turns
// them into the error Func.Call would return, after re-raising a host
// panic as enterWasm does: first one from a DefineFunc host function
// (recorded in the call's frame), then one from a wasmtime-go host
// function (kept in wasmtime-go's store data).
func (c *callResult) err(store wasmtime.Storelike) error {
	return failure(store, c.r.trap, c.r.error, c.panicked, c.panicVal)
}

// failure is the common tail of every call into wasm: it owns trap and
// werr from here on.
func failure(store wasmtime.Storelike, trap *C.wasm_trap_t, werr *C.wasmtime_error_t, panicked bool, panicVal any) error {
	var t *wasmtime.Trap
	var e *wasmtime.Error
	if trap != nil {
		t = newTrap(trap)
	}
	if werr != nil {
		e = newError(werr)
	}
	if panicked {
		panic(panicVal)
	}
	if t == nil && e == nil {
		return nil
	}
	reraiseHostPanic(store)
	if t != nil {
		return t
	}
	return e
}

// boxArgs converts args for Func.Call, on the fallback path only.
func boxArgs(args []int32) []any {
	boxed := make([]any, len(args))
	for i, v := range args {
		boxed[i] = v
	}
	return boxed
}
