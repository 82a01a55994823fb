package wasmpool

// #include "wasmpool.h"
import "C"

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// This file is the only place that looks inside wasmtime-go's types.
//
// wasmtime-go keeps each C handle in the first, unexported field of its
// wrapper (Config._ptr, Engine._ptr, Store._ptr, Linker._ptr, Module._ptr,
// Error._ptr, Trap._ptr) and keeps instances, functions and memories as C values (Instance.val,
// Func.val, Memory.val: a store id and an index, nothing owned, so these
// wrappers have no finalizer). The accessors below read or write that first
// field through unsafe. Before any of them can run, checkLayout compares
// every one of those fields with the C type this package declares for it in
// wasmpool.h: field name, offset, Go kind, size, alignment and cgo type
// name, recursively for structs. The results are kept per feature:
// EnablePooling needs only Config, NewInstancePre needs Linker, Module,
// Instance, Error and Trap, and the call path (call.go) Instance, Func,
// Memory, Error and Trap, the ticker Engine and Store. An entry point whose types do not match returns
// the error (wrapping ErrLayout), or for the call path takes wasmtime-go's
// public API instead, rather than touch memory it does not understand;
// TestLayout fails. The sizes are also pinned at compile time.

// wasmtimePkg is the import path whose types are inspected.
const wasmtimePkg = "github.com/bytecodealliance/wasmtime-go/v39"

// Compile-time guard: indexing a one-element array with a constant that is
// not zero does not compile, and a negative uintptr constant overflows, so
// these lines stop the build if a wrapper grows or shrinks.
var (
	_ = [1]struct{}{}[unsafe.Sizeof(wasmtime.Instance{})-unsafe.Sizeof(C.wasmtime_instance_t{})]
	_ = [1]struct{}{}[unsafe.Sizeof(wasmtime.Error{})-unsafe.Sizeof(uintptr(0))]
	_ = [1]struct{}{}[unsafe.Sizeof(wasmtime.Trap{})-unsafe.Sizeof(uintptr(0))]
	_ = [1]struct{}{}[unsafe.Sizeof(wasmtime.Config{})-unsafe.Sizeof(uintptr(0))]
	_ = [1]struct{}{}[unsafe.Sizeof(wasmtime.Module{})-unsafe.Sizeof(uintptr(0))]
	_ = [1]struct{}{}[unsafe.Sizeof(wasmtime.Func{})-unsafe.Sizeof(C.wasmtime_func_t{})]
	_ = [1]struct{}{}[unsafe.Sizeof(wasmtime.Memory{})-unsafe.Sizeof(C.wasmtime_memory_t{})]
	_ = [1]struct{}{}[unsafe.Sizeof(wasmtime.Caller{})-unsafe.Sizeof(uintptr(0))]
	_ = [1]struct{}{}[unsafe.Sizeof(wasmtime.Engine{})-unsafe.Sizeof(uintptr(0))]
)

// Per-feature results of checkLayout, computed once at init.
var (
	poolingLayoutErr = checkLayout(forPooling) // EnablePooling
	preLayoutErr     = checkLayout(forPre)     // NewInstancePre, Instantiate
	callLayoutErr    = checkLayout(forCall)    // Lookup*, MemoryData, Call, CallI32
	hostLayoutErr    = checkLayout(forHost)    // DefineFunc
	tickerLayoutErr  = checkLayout(forTicker)  // StartTicker
)

// feature names what an entry point needs from wasmtime-go's layout. The
// values are bits, so that a field can serve several features.
type feature int

const (
	forPooling feature = 1 << iota
	forPre
	forCall
	forHost
	forTicker
)

// fieldSpec says which field of a wasmtime-go wrapper is used, by which
// features, and what C type it must hold.
type fieldSpec struct {
	use   feature      // a set of features
	owner reflect.Type // wasmtime-go wrapper, e.g. wasmtime.Config
	field string       // its first field
	want  reflect.Type // this package's cgo type for the same C type
	// sole means the wrapper must have no other field: this package
	// constructs values of it, so nothing else may need initialising.
	sole bool
}

func layoutSpecs() []fieldSpec {
	return []fieldSpec{
		{forPooling, reflect.TypeFor[wasmtime.Config](), "_ptr", reflect.TypeFor[*C.wasm_config_t](), false},
		{forTicker, reflect.TypeFor[wasmtime.Engine](), "_ptr", reflect.TypeFor[*C.wasm_engine_t](), false},
		{forTicker, reflect.TypeFor[wasmtime.Store](), "_ptr", reflect.TypeFor[*C.wasmtime_store_t](), false},
		{forPre | forHost, reflect.TypeFor[wasmtime.Linker](), "_ptr", reflect.TypeFor[*C.wasmtime_linker_t](), false},
		{forPre, reflect.TypeFor[wasmtime.Module](), "_ptr", reflect.TypeFor[*C.wasmtime_module_t](), false},
		{forPre | forCall | forHost, reflect.TypeFor[wasmtime.Error](), "_ptr", reflect.TypeFor[*C.wasmtime_error_t](), true},
		{forPre | forCall | forHost, reflect.TypeFor[wasmtime.Trap](), "_ptr", reflect.TypeFor[*C.wasm_trap_t](), true},
		{forPre | forCall, reflect.TypeFor[wasmtime.Instance](), "val", reflect.TypeFor[C.wasmtime_instance_t](), true},
		{forCall, reflect.TypeFor[wasmtime.Func](), "val", reflect.TypeFor[C.wasmtime_func_t](), true},
		{forCall, reflect.TypeFor[wasmtime.Memory](), "val", reflect.TypeFor[C.wasmtime_memory_t](), true},
		{forHost, reflect.TypeFor[wasmtime.Caller](), "ptr", reflect.TypeFor[*C.wasmtime_caller_t](), true},
	}
}

// checkLayout verifies every assumption the unsafe accessors of feature f
// make. It returns nil or an error wrapping ErrLayout that lists every
// mismatch.
func checkLayout(f feature) error {
	var problems []string
	for _, s := range layoutSpecs() {
		if s.use&f != 0 {
			problems = append(problems, checkField(s)...)
		}
	}
	if f&(forPre|forCall|forTicker) != 0 {
		// Storelike.Context is exported but returns a cgo type of
		// wasmtime-go's package; it is converted to this package's
		// *C.wasmtime_context_t.
		if m, ok := reflect.TypeFor[wasmtime.Storelike]().MethodByName("Context"); !ok {
			problems = append(problems, "Storelike has no Context method")
		} else if m.Type.NumIn() != 0 || m.Type.NumOut() != 1 {
			problems = append(problems, fmt.Sprintf("Storelike.Context has signature %v", m.Type))
		} else {
			problems = append(problems, sameCType("Storelike.Context()", m.Type.Out(0), reflect.TypeFor[*C.wasmtime_context_t]())...)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w (%s): %s", ErrLayout, wasmtimePkg, strings.Join(problems, "; "))
}

func checkField(s fieldSpec) []string {
	name := s.owner.String()
	if s.owner.Kind() != reflect.Struct {
		return []string{name + " is not a struct"}
	}
	if s.owner.PkgPath() != wasmtimePkg {
		return []string{fmt.Sprintf("%s comes from package %q", name, s.owner.PkgPath())}
	}
	if s.owner.NumField() == 0 {
		return []string{name + " has no fields"}
	}
	var p []string
	f := s.owner.Field(0)
	if f.Name != s.field {
		p = append(p, fmt.Sprintf("%s field 0 is %q, want %q", name, f.Name, s.field))
	}
	if f.Offset != 0 {
		p = append(p, fmt.Sprintf("%s.%s at offset %d", name, f.Name, f.Offset))
	}
	if s.sole && (s.owner.NumField() != 1 || s.owner.Size() != f.Type.Size()) {
		p = append(p, fmt.Sprintf("%s has %d fields and size %d, want exactly one field of size %d",
			name, s.owner.NumField(), s.owner.Size(), s.want.Size()))
	}
	return append(p, sameCType(name+"."+f.Name, f.Type, s.want)...)
}

// sameCType reports how got (a cgo type of wasmtime-go) differs from want
// (the cgo type of this package for the same C declaration). cgo names its
// types after the C declaration (_Ctype_struct_wasmtime_instance, ...), so
// the names must match while the package paths differ. Opaque C structs
// appear as a struct holding runtime/internal's NotInHeap marker; those
// inner types are compared by name and shape too.
func sameCType(where string, got, want reflect.Type) []string {
	var p []string
	if got.Kind() != want.Kind() || got.Size() != want.Size() || got.Align() != want.Align() {
		return []string{fmt.Sprintf("%s is %v (%v, size %d, align %d), want %v (%v, size %d, align %d)",
			where, got, got.Kind(), got.Size(), got.Align(), want, want.Kind(), want.Size(), want.Align())}
	}
	if got.Name() != want.Name() && !(isAnonCStruct(got.Name()) && isAnonCStruct(want.Name())) {
		p = append(p, fmt.Sprintf("%s has type %s, want %s", where, got.Name(), want.Name()))
	}
	if strings.HasPrefix(want.Name(), "_Ctype_") && got.PkgPath() != wasmtimePkg {
		p = append(p, fmt.Sprintf("%s type comes from package %q", where, got.PkgPath()))
	}
	switch want.Kind() {
	case reflect.Pointer:
		p = append(p, sameCType(where+"*", got.Elem(), want.Elem())...)
	case reflect.Array:
		if got.Len() != want.Len() {
			p = append(p, fmt.Sprintf("%s has length %d, want %d", where, got.Len(), want.Len()))
		}
		p = append(p, sameCType(where+"[]", got.Elem(), want.Elem())...)
	case reflect.Struct:
		if got.NumField() != want.NumField() {
			return append(p, fmt.Sprintf("%s has %d fields, want %d", where, got.NumField(), want.NumField()))
		}
		for i := range want.NumField() {
			g, w := got.Field(i), want.Field(i)
			if g.Name != w.Name || g.Offset != w.Offset {
				p = append(p, fmt.Sprintf("%s field %d is %s@%d, want %s@%d", where, i, g.Name, g.Offset, w.Name, w.Offset))
				continue
			}
			p = append(p, sameCType(where+"."+w.Name, g.Type, w.Type)...)
		}
	}
	return p
}

// isAnonCStruct reports whether name is cgo's name for an anonymous C
// struct, such as the unnamed first member of wasmtime_memory_t. cgo
// numbers those per package (_Ctype_struct___0, _Ctype_struct___6, ...),
// so two packages may number the same one differently; they are compared
// by their fields alone.
func isAnonCStruct(name string) bool {
	n, ok := strings.CutPrefix(name, "_Ctype_struct___")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

// The readers below follow wasmtime-go's ptr() discipline (see its ffi.go):
// read the handle, then maybeGC, then return it. The caller must keep the
// wrapper alive with runtime.KeepAlive until the C call using the handle has
// returned, or a finalizer may free the handle underneath it; under the
// debug build tag maybeGC makes such a mistake crash in tests.

func configPtr(c *wasmtime.Config) *C.wasm_config_t {
	p := *(**C.wasm_config_t)(unsafe.Pointer(c))
	maybeGC()
	return p
}

func enginePtr(e *wasmtime.Engine) *C.wasm_engine_t {
	p := *(**C.wasm_engine_t)(unsafe.Pointer(e))
	maybeGC()
	return p
}

func storePtr(s *wasmtime.Store) *C.wasmtime_store_t {
	p := *(**C.wasmtime_store_t)(unsafe.Pointer(s))
	maybeGC()
	return p
}

func linkerPtr(l *wasmtime.Linker) *C.wasmtime_linker_t {
	p := *(**C.wasmtime_linker_t)(unsafe.Pointer(l))
	maybeGC()
	return p
}

func modulePtr(m *wasmtime.Module) *C.wasmtime_module_t {
	p := *(**C.wasmtime_module_t)(unsafe.Pointer(m))
	maybeGC()
	return p
}

// contextPtr converts the handle returned by the exported Storelike.Context
// (a pointer to wasmtime-go's cgo type) to this package's cgo type. The
// caller keeps the store alive as for the readers above.
func contextPtr(s wasmtime.Storelike) *C.wasmtime_context_t {
	p := (*C.wasmtime_context_t)(unsafe.Pointer(s.Context()))
	maybeGC()
	return p
}

// newError wraps an owned wasmtime_error_t exactly as wasmtime-go's mkError
// does: the *wasmtime.Error owns it and frees it on Close or finalization.
func newError(p *C.wasmtime_error_t) *wasmtime.Error {
	e := new(wasmtime.Error)
	*(**C.wasmtime_error_t)(unsafe.Pointer(e)) = p
	runtime.SetFinalizer(e, (*wasmtime.Error).Close)
	return e
}

// newTrap wraps an owned wasm_trap_t exactly as wasmtime-go's mkTrap does.
func newTrap(p *C.wasm_trap_t) *wasmtime.Trap {
	t := new(wasmtime.Trap)
	*(**C.wasm_trap_t)(unsafe.Pointer(t)) = p
	runtime.SetFinalizer(t, (*wasmtime.Trap).Close)
	return t
}

// instanceVal returns the wasmtime_instance_t inside inst, so that C can
// write a freshly created instance straight into a *wasmtime.Instance.
// wasmtime_instance_t is a plain (store id, index) value with no owned
// resources; an Instance needs no finalizer.
func instanceVal(inst *wasmtime.Instance) *C.wasmtime_instance_t {
	return (*C.wasmtime_instance_t)(unsafe.Pointer(inst))
}

// funcVal returns the C value inside f: which store the function belongs
// to and its index there. It owns nothing, so copying it is harmless.
func funcVal(f *wasmtime.Func) C.wasmtime_func_t {
	return *(*C.wasmtime_func_t)(unsafe.Pointer(f))
}

// newFunc builds the *wasmtime.Func that wasmtime-go's mkFunc would: a
// plain value with no finalizer.
func newFunc(v C.wasmtime_func_t) *wasmtime.Func {
	f := new(wasmtime.Func)
	*(*C.wasmtime_func_t)(unsafe.Pointer(f)) = v
	return f
}

// memoryVal returns the C value inside m, which owns nothing.
func memoryVal(m *wasmtime.Memory) C.wasmtime_memory_t {
	return *(*C.wasmtime_memory_t)(unsafe.Pointer(m))
}

// newMemory builds the *wasmtime.Memory that wasmtime-go's mkMemory would:
// a plain value with no finalizer.
func newMemory(v C.wasmtime_memory_t) *wasmtime.Memory {
	m := new(wasmtime.Memory)
	*(*C.wasmtime_memory_t)(unsafe.Pointer(m)) = v
	return m
}

// newCaller builds the *wasmtime.Caller that wasmtime-go's trampolines
// pass to host functions. clearCaller invalidates it when the host
// function returns, as wasmtime-go does, so that a Caller kept by the host
// function panics instead of using a dangling pointer.
func newCaller(p *C.wasmtime_caller_t) *wasmtime.Caller {
	c := new(wasmtime.Caller)
	*(**C.wasmtime_caller_t)(unsafe.Pointer(c)) = p
	return c
}

func clearCaller(c *wasmtime.Caller) {
	*(**C.wasmtime_caller_t)(unsafe.Pointer(c)) = nil
}

// trapLive reports whether t still owns its wasm_trap_t.
func trapLive(t *wasmtime.Trap) bool {
	return *(**C.wasm_trap_t)(unsafe.Pointer(t)) != nil
}

// takeTrap moves the wasm_trap_t out of t, as wasmtime-go's trampoline
// does with a trap returned by a host function: wasmtime takes ownership,
// so t must neither be freed by its finalizer nor used again.
func takeTrap(t *wasmtime.Trap) *C.wasm_trap_t {
	p := (**C.wasm_trap_t)(unsafe.Pointer(t))
	ret := *p
	runtime.SetFinalizer(t, nil)
	*p = nil
	return ret
}
