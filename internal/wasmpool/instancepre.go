package wasmpool

// #include "wasmpool.h"
import "C"

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// InstancePre is a module whose imports have been resolved against a
// linker once, so that instantiating it per request skips name lookup and
// type checking. It wraps wasmtime's InstancePre.
//
// An InstancePre is safe for concurrent use. It does not depend on the
// wasmtime.Linker or wasmtime.Module it was built from: it holds its own
// references to the compiled module and to the host functions, so both may
// be closed while it is in use. Close it when the module is retired.
type InstancePre struct {
	ptr    *C.wasmtime_instance_pre_t
	engine *wasmtime.Engine
	// state counts Instantiate calls in flight; closedBit is set by Close.
	// Whoever leaves state at exactly closedBit frees ptr, so Close never
	// frees it under a running instantiation and never blocks on one.
	state atomic.Int64
}

const closedBit = 1 << 62

// InstancePreErr returns nil if NewInstancePre can work in this build, or
// the error (wrapping ErrLayout) every call of it returns. It is meant
// for a start-up log line; callers then instantiate through
// Linker.Instantiate, which resolves every import again per instance.
func InstancePreErr() error { return preLayoutErr }

// NewInstancePre resolves the imports of module against linker, which
// must come from the engine the module was compiled for. It fails as
// Linker.Instantiate would if an import is missing or has the wrong type.
// Host functions must be defined with Linker.FuncNew or Linker.FuncWrap,
// which are store-independent; items added with Linker.Define belong to
// one store and are not supported here.
func NewInstancePre(linker *wasmtime.Linker, module *wasmtime.Module) (*InstancePre, error) {
	if preLayoutErr != nil {
		return nil, preLayoutErr
	}
	lp, mp := linkerPtr(linker), modulePtr(module)
	if lp == nil || mp == nil {
		return nil, fmt.Errorf("%w: wasmtime.Linker or wasmtime.Module already closed", ErrClosed)
	}
	var pre *C.wasmtime_instance_pre_t
	werr := C.wasmtime_linker_instantiate_pre(lp, mp, &pre)
	runtime.KeepAlive(linker)
	runtime.KeepAlive(module)
	if werr != nil {
		return nil, newError(werr)
	}
	p := &InstancePre{ptr: pre, engine: linker.Engine}
	runtime.SetFinalizer(p, (*InstancePre).Close)
	return p, nil
}

// Instantiate creates a new instance of the module in store and runs its
// start function, like Linker.Instantiate. The returned Instance is an
// ordinary wasmtime-go Instance, valid for as long as the store.
//
// Errors mirror Linker.Instantiate: a *wasmtime.Trap if the start function
// hits a wasm trap (including an epoch interrupt), a *wasmtime.Error
// otherwise (including a trap returned by a host function, which the C API
// reports as an error). When the pooling allocator is full
// the error also wraps ErrPoolExhausted (see IsPoolExhausted). If a Go
// host function (defined with wasmtime-go or with DefineFunc) panics
// during the start function, Instantiate panics with the same value, as
// wasmtime-go does. After Close it returns ErrClosed.
// A *wasmtime.Store of another engine is refused with ErrEngineMismatch
// (a *wasmtime.Caller cannot be checked and must be of the same engine).
func (p *InstancePre) Instantiate(store wasmtime.Storelike) (*wasmtime.Instance, error) {
	if s, ok := store.(*wasmtime.Store); ok && s.Engine != p.engine {
		return nil, ErrEngineMismatch
	}
	if !p.acquire() {
		return nil, ErrClosed
	}
	defer p.release()

	ctx := contextPtr(store)
	// The helper returns the new (store id, index) value, the trap and the
	// error by value: the start function may call back into Go, and a
	// goroutine stack can move during a callback, so nothing C writes to
	// may be on the goroutine stack. The call runs under a frame for the
	// host functions defined with DefineFunc (host.go).
	slot := frames.claim(ctx)
	r := C.wasmpool_instantiate(p.ptr, ctx, slot)
	runtime.KeepAlive(store)
	runtime.KeepAlive(p)
	panicked, panicVal := frames.release(slot)
	return instantiated(store, r, panicked, panicVal)
}

// MaxLinkedImports bounds the imports of InstantiateLinked's second
// module.
const MaxLinkedImports = C.WASMPOOL_MAX_LINKED

// InstantiateLinked instantiates p's module in store, then code, whose
// import i is the export of that first instance named i in decimal ("0",
// "1", ... up to n-1), and returns the instance of code. It is how a
// module whose imports include a memory is instantiated per request
// while keeping a pre-resolved fast path: the first module defines the
// memory (with its copy-on-write image) and re-exports the host functions
// it imported through the linker, and code imports them all. The imports
// are matched by position, not by their names; a missing or mistyped one fails
// as Linker.Instantiate would. code must come from p's engine; errors are
// as for Instantiate. n may not exceed MaxLinkedImports.
func (p *InstancePre) InstantiateLinked(store wasmtime.Storelike, code *wasmtime.Module, n int) (*wasmtime.Instance, error) {
	if s, ok := store.(*wasmtime.Store); ok && s.Engine != p.engine {
		return nil, ErrEngineMismatch
	}
	if n < 0 || n > MaxLinkedImports {
		return nil, fmt.Errorf("wasmpool: %d linked imports; at most %d", n, MaxLinkedImports)
	}
	mp := modulePtr(code)
	if mp == nil {
		return nil, fmt.Errorf("%w: wasmtime.Module already closed", ErrClosed)
	}
	if !p.acquire() {
		return nil, ErrClosed
	}
	defer p.release()
	ctx := contextPtr(store)
	slot := frames.claim(ctx)
	r := C.wasmpool_instantiate_linked(p.ptr, mp, C.size_t(n), ctx, slot)
	runtime.KeepAlive(store)
	runtime.KeepAlive(p)
	runtime.KeepAlive(code)
	panicked, panicVal := frames.release(slot)
	return instantiated(store, r, panicked, panicVal)
}

// instantiated turns a helper's result into Instantiate's.
func instantiated(store wasmtime.Storelike, r C.wasmpool_instantiate_result_t, panicked bool, panicVal any) (*wasmtime.Instance, error) {

	// As in wasmtime-go's enterWasm: take ownership of everything returned
	// first, then propagate a host panic, then prefer the trap.
	var trap *wasmtime.Trap
	var err *wasmtime.Error
	if r.trap != nil {
		trap = newTrap(r.trap)
	}
	if r.error != nil {
		err = newError(r.error)
	}
	if panicked {
		panic(panicVal) // from a DefineFunc host function
	}
	if trap == nil && err == nil {
		inst := new(wasmtime.Instance)
		*instanceVal(inst) = r.instance
		return inst, nil
	}
	if trap == nil && isPoolLimit(err) {
		// No slot, so no start function ran and no host panic is pending.
		return nil, fmt.Errorf("%w: %w", ErrPoolExhausted, err)
	}
	reraiseHostPanic(store)
	if trap != nil {
		return nil, trap
	}
	return nil, err
}

// reraiseHostPanic propagates a panic raised by a Go host function during
// the start function. wasmtime-go's trampoline recovers such a panic,
// stores it in the store's private data and fails the call (the C API
// reports it as an error or a trap); its enterWasm re-panics with it after
// the C call returns. That data is not reachable from outside wasmtime-go,
// but every exported call that enters wasm goes through enterWasm, so
// calling an empty host function does it for us. It runs only when
// instantiation failed, so the common path pays nothing. Without it the
// panic would surface on the store's next call instead.
func reraiseHostPanic(store wasmtime.Storelike) {
	f := wasmtime.WrapFunc(store, func() {})
	_, _ = f.Call(store)
}

// Close frees the pre-resolved module. Instantiations already running
// finish first (the last one frees it); later ones return ErrClosed.
// Instances already created are unaffected. Close is idempotent and safe
// to call concurrently with Instantiate.
func (p *InstancePre) Close() {
	old := p.state.Or(closedBit)
	if old&closedBit != 0 {
		return
	}
	runtime.SetFinalizer(p, nil)
	if old == 0 {
		p.free()
	}
}

func (p *InstancePre) acquire() bool {
	for {
		s := p.state.Load()
		if s&closedBit != 0 {
			return false
		}
		if p.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

func (p *InstancePre) release() {
	if p.state.Add(-1) == closedBit {
		p.free()
	}
}

func (p *InstancePre) free() {
	C.wasmtime_instance_pre_delete(p.ptr)
	p.ptr = nil
}
