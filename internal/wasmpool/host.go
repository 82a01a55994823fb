package wasmpool

// #include "wasmpool.h"
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// Host functions without wasmtime-go's per-call machinery.
//
// A host function defined with wasmtime-go's Linker.FuncNew costs, per
// call: wasmtime's checked calling convention (it converts every argument
// and result between its own representation and wasmtime_val_t), two
// lookups in wasmtime-go's global tables under global mutexes (the store's
// data, the function's entry), one cgo call per argument to read it, one
// per result to check its type and one to write it, and a third global
// lookup when the function calls Caller.Data. DefineFunc registers the
// function with wasmtime's unchecked convention instead (arguments and
// results in one array of raw values, read and written here directly),
// keeps its own table of host functions that is read without locks, and
// hands the function the store's data found through the call frame
// described below, without wasmtime-go's global lock.
//
// # Frames
//
// Call, CallI32 and InstancePre.Instantiate claim a frame slot for the
// duration of the call into wasm and tell call.c, which keeps a per-thread
// stack of (store, slot) for the calls in progress. A host function runs
// on the same thread, below that call; the C trampoline passes the slot of
// the innermost call if that call is into the caller's store. The Go side
// then finds the store's data in the frame (looked up once per call, the
// first time a host function needs it) and, if the host function panics,
// records the panic there, so that the call re-panics with it when wasm
// has unwound, as wasmtime-go's Func.Call does. Frames are released when
// the call returns; nothing outlives it, so a closed or reused store can
// never be confused with another.
//
// A host function called without such a frame (wasm entered through
// wasmtime-go's Func.Call or Linker.Instantiate, for example) still works:
// it gets the data through Caller.Data, and a panic makes the call into
// wasm fail with an error naming the function and the panic value; the
// panic is not re-raised (wasmtime-go's enterWasm only knows about its own
// host functions).

// HostFunc is the body of a host function defined with DefineFunc. data
// is the store's data (Storelike.Data: the value given to
// wasmtime.NewStoreWithData). caller is valid only until the function
// returns. args holds one value per parameter, of the declared kinds; the
// function returns one value per result, of the declared kinds, or a trap.
//
// The function runs on the goroutine that called into wasm. If it panics,
// the call into wasm fails and (on the fast path) re-panics with the same
// value once wasm has unwound; returning the wrong number or kinds of
// results counts as a panic, as with wasmtime-go. It must not call
// runtime.Goexit (t.FailNow and t.Fatal do): that would unwind through
// wasmtime's frames.
type HostFunc func(data any, caller *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap)

// DefineFunc defines module.name in linker as a host function with the
// given parameter and result kinds, like linker.FuncNew with a FuncType of
// those kinds, but with a much cheaper call (see above). Only i32, i64,
// f32 and f64 are supported, at most 32 of each. Like FuncNew it is
// store-independent, so the linker can serve NewInstancePre.
//
// If the fast path is unavailable (FastPathErr), DefineFunc defines the
// function with Linker.FuncNew instead, passing caller.Data() as data;
// panics then follow wasmtime-go's rules.
func DefineFunc(linker *wasmtime.Linker, module, name string, params, results []wasmtime.ValKind, fn HostFunc) error {
	if fn == nil {
		return errors.New("wasmpool: DefineFunc with a nil function")
	}
	pk, err := hostKinds(params)
	if err != nil {
		return fmt.Errorf("wasmpool: %s.%s parameters: %w", module, name, err)
	}
	rk, err := hostKinds(results)
	if err != nil {
		return fmt.Errorf("wasmpool: %s.%s results: %w", module, name, err)
	}
	if !utf8.ValidString(module) || !utf8.ValidString(name) {
		return fmt.Errorf("wasmpool: %q.%q is not valid UTF-8", module, name)
	}
	if hostLayoutErr != nil {
		return defineFuncNew(linker, module, name, params, results, fn)
	}
	lp := linkerPtr(linker)
	if lp == nil {
		return fmt.Errorf("%w: wasmtime.Linker already closed", ErrClosed)
	}
	e := &hostEntry{
		module:  module,
		name:    name,
		fn:      fn,
		params:  append([]wasmtime.ValKind(nil), params...),
		results: append([]wasmtime.ValKind(nil), results...),
	}
	env := hosts.add(e)
	werr := C.wasmpool_define_host(lp,
		cString(module), C.size_t(len(module)), cString(name), C.size_t(len(name)),
		kindsPtr(pk), C.size_t(len(params)), kindsPtr(rk), C.size_t(len(results)),
		C.size_t(env))
	runtime.KeepAlive(linker)
	runtime.KeepAlive(module)
	runtime.KeepAlive(name)
	runtime.KeepAlive(pk)
	runtime.KeepAlive(rk)
	if werr != nil {
		// wasmtime has usually dropped the callback already, which
		// released env through wasmpoolHostFinalize; if not, do it here.
		hosts.remove(env, e)
		return newError(werr)
	}
	return nil
}

// hostKinds converts kinds for wasmpool_define_host: the wasm_valkind_t
// numbers, which wasmtime-go's ValKind shares for these four kinds (see
// TestHostKinds).
func hostKinds(kinds []wasmtime.ValKind) ([]C.wasm_valkind_t, error) {
	if len(kinds) > C.WASMPOOL_MAX_HOST_VALUES {
		return nil, fmt.Errorf("%d values, at most %d are supported", len(kinds), C.WASMPOOL_MAX_HOST_VALUES)
	}
	out := make([]C.wasm_valkind_t, len(kinds))
	for i, k := range kinds {
		switch k {
		case wasmtime.KindI32, wasmtime.KindI64, wasmtime.KindF32, wasmtime.KindF64:
			out[i] = C.wasm_valkind_t(k)
		default:
			return nil, fmt.Errorf("value %d is %v; only i32, i64, f32 and f64 are supported", i, k)
		}
	}
	return out, nil
}

func kindsPtr(k []C.wasm_valkind_t) *C.wasm_valkind_t {
	if len(k) == 0 {
		return nil
	}
	return &k[0]
}

// defineFuncNew is DefineFunc through wasmtime-go, for when the layout
// check failed.
func defineFuncNew(linker *wasmtime.Linker, module, name string, params, results []wasmtime.ValKind, fn HostFunc) error {
	valTypes := func(kinds []wasmtime.ValKind) []*wasmtime.ValType {
		out := make([]*wasmtime.ValType, len(kinds))
		for i, k := range kinds {
			out[i] = wasmtime.NewValType(k)
		}
		return out
	}
	ty := wasmtime.NewFuncType(valTypes(params), valTypes(results))
	return linker.FuncNew(module, name, ty, func(caller *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		return fn(caller.Data(), caller, args)
	})
}

// hostEntry is one function defined with DefineFunc.
type hostEntry struct {
	module, name    string
	fn              HostFunc
	params, results []wasmtime.ValKind
}

// hostTable holds the functions defined with DefineFunc, indexed by the
// env wasmtime passes back to the trampoline. Readers (every host call)
// load the current slice without locking; writers (definitions and
// wasmtime's finalizer when the last linker, instance or store using a
// function is gone) copy it under mu. An index is reused only after
// wasmtime has released it, when no call can use it any more.
type hostTable struct {
	mu      sync.Mutex
	entries atomic.Pointer[[]*hostEntry]
	free    []uint
}

var hosts hostTable

func (t *hostTable) add(e *hostEntry) uint {
	t.mu.Lock()
	defer t.mu.Unlock()
	var cur []*hostEntry
	if p := t.entries.Load(); p != nil {
		cur = *p
	}
	next := append(make([]*hostEntry, 0, len(cur)+1), cur...)
	var idx uint
	if n := len(t.free); n > 0 {
		idx, t.free = t.free[n-1], t.free[:n-1]
		next[idx] = e
	} else {
		idx = uint(len(next))
		next = append(next, e)
	}
	t.entries.Store(&next)
	return idx
}

// remove releases idx if it still holds e (or any entry, for e == nil).
func (t *hostTable) remove(idx uint, e *hostEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.entries.Load()
	if p == nil || idx >= uint(len(*p)) || (*p)[idx] == nil || (e != nil && (*p)[idx] != e) {
		return
	}
	next := append([]*hostEntry(nil), *p...)
	next[idx] = nil
	t.entries.Store(&next)
	t.free = append(t.free, idx)
}

func (t *hostTable) get(idx uint) *hostEntry {
	if p := t.entries.Load(); p != nil && idx < uint(len(*p)) {
		return (*p)[idx]
	}
	return nil
}

// len counts the live entries, for tests.
func (t *hostTable) len() int {
	n := 0
	if p := t.entries.Load(); p != nil {
		for _, e := range *p {
			if e != nil {
				n++
			}
		}
	}
	return n
}

//export wasmpoolHostFinalize
func wasmpoolHostFinalize(env C.size_t) {
	hosts.remove(uint(env), nil)
}

// rawVal is wasmtime_val_raw_t (wasmtime's ValRaw): 16 bytes holding a
// number in little-endian order, whatever the host's byte order. i32 and
// f32 values are written zero-extended to 64 bits, as wasmtime does.
type rawVal = [16]byte

// testHookHostCall, if set, is told for every call of a DefineFunc host
// function whether it found its frame.
var testHookHostCall func(framed bool)

//export wasmpoolHostCall
func wasmpoolHostCall(env C.size_t, callerPtr *C.wasmtime_caller_t, raw *C.wasmtime_val_raw_t, n C.size_t, slot C.size_t) (trap *C.wasm_trap_t) {
	// Nothing may unwind out of here (through wasmtime's frames): every
	// failure becomes a trap.
	e := hosts.get(uint(env))
	fr := frames.at(slot)
	if testHookHostCall != nil {
		testHookHostCall(fr != nil)
	}
	caller := newCaller(callerPtr)
	defer clearCaller(caller)
	if e == nil {
		return takeTrap(wasmtime.NewTrap("wasmpool: call of an unknown host function"))
	}
	if int(n) < max(len(e.params), len(e.results)) {
		return takeTrap(wasmtime.NewTrap(fmt.Sprintf("wasmpool: %s.%s called with %d values", e.module, e.name, n)))
	}
	vals := unsafe.Slice((*rawVal)(unsafe.Pointer(raw)), int(n))
	args := make([]wasmtime.Val, len(e.params))
	for i, k := range e.params {
		args[i] = fromRaw(k, &vals[i])
	}

	// Run the function and write its results, recovering any panic:
	// wasmtime-go's Val accessors panic too (a zero Val claims to be an
	// i32 but holds none).
	var ret *wasmtime.Trap
	panicked, panicVal := func() (panicked bool, v any) {
		defer func() {
			if panicked {
				v = recover()
			}
		}()
		panicked = true
		var data any
		if fr != nil {
			data = fr.storeData(caller)
		} else {
			data = caller.Data()
		}
		var results []wasmtime.Val
		results, ret = e.fn(data, caller, args)
		switch {
		case ret != nil:
			if !trapLive(ret) {
				panic("returned an already-returned trap")
			}
		case len(results) != len(e.results):
			panic("callback didn't produce the correct number of results")
		default:
			for i, k := range e.results {
				if results[i].Kind() != k {
					panic("callback produced wrong type of result")
				}
			}
			for i, k := range e.results {
				toRaw(k, results[i], &vals[i])
			}
		}
		return false, nil
	}()
	if panicked {
		if fr != nil {
			fr.recordPanic(panicVal)
			return takeTrap(wasmtime.NewTrap("go panicked"))
		}
		return takeTrap(wasmtime.NewTrap(fmt.Sprintf("wasmpool: host function %s.%s panicked: %v", e.module, e.name, panicVal)))
	}
	if ret != nil {
		return takeTrap(ret)
	}
	return nil
}

func fromRaw(k wasmtime.ValKind, v *rawVal) wasmtime.Val {
	switch k {
	case wasmtime.KindI32:
		return wasmtime.ValI32(int32(binary.LittleEndian.Uint32(v[:4])))
	case wasmtime.KindI64:
		return wasmtime.ValI64(int64(binary.LittleEndian.Uint64(v[:8])))
	case wasmtime.KindF32:
		return wasmtime.ValF32(math.Float32frombits(binary.LittleEndian.Uint32(v[:4])))
	default: // KindF64; DefineFunc allows nothing else
		return wasmtime.ValF64(math.Float64frombits(binary.LittleEndian.Uint64(v[:8])))
	}
}

func toRaw(k wasmtime.ValKind, val wasmtime.Val, v *rawVal) {
	var bits uint64
	switch k {
	case wasmtime.KindI32:
		bits = uint64(uint32(val.I32()))
	case wasmtime.KindI64:
		bits = uint64(val.I64())
	case wasmtime.KindF32:
		bits = uint64(math.Float32bits(val.F32()))
	default:
		bits = math.Float64bits(val.F64())
	}
	binary.LittleEndian.PutUint64(v[:8], bits)
	clear(v[8:])
}

// ---- Frames ----

// maxFrames bounds the calls into wasm through this package that can be in
// progress at once, nested ones included. Each occupies an OS thread (wasm
// runs on the calling thread), so the bound is far above what a process
// runs; a call that finds no free slot runs without a frame (see above).
const maxFrames = 1024

// frame is what a host function needs from the call into wasm it runs
// under. Only the goroutine that claimed the slot touches the fields:
// host functions run on that goroutine. Claiming and releasing through
// inUse orders one owner's accesses before the next owner's.
type frame struct {
	inUse    atomic.Bool
	data     any
	haveData bool
	panicked bool
	panicVal any
	_        [64]byte // keep frames used by different cores apart
}

type frameTable [maxFrames]frame

var frames frameTable

// claim takes a free slot for a call into the store ctx, starting from a
// slot derived from ctx so that concurrent calls in different stores
// rarely meet. It returns WASMPOOL_NO_FRAME when all are taken.
func (t *frameTable) claim(ctx *C.wasmtime_context_t) C.size_t {
	h := uintptr(unsafe.Pointer(ctx))
	start := int((h >> 4) ^ (h >> 16))
	for i := range maxFrames {
		s := (start + i) % maxFrames
		if t[s].inUse.CompareAndSwap(false, true) {
			return C.size_t(s)
		}
	}
	return C.WASMPOOL_NO_FRAME
}

// release frees slot and returns the panic a host function recorded in it,
// if any.
func (t *frameTable) release(slot C.size_t) (panicked bool, v any) {
	if slot == C.WASMPOOL_NO_FRAME {
		return false, nil
	}
	f := &t[slot]
	panicked, v = f.panicked, f.panicVal
	f.data, f.haveData, f.panicked, f.panicVal = nil, false, false, nil
	f.inUse.Store(false)
	return panicked, v
}

func (t *frameTable) at(slot C.size_t) *frame {
	if slot >= maxFrames {
		return nil
	}
	f := &t[slot]
	if !f.inUse.Load() {
		return nil // cannot happen: the slot's call is below us
	}
	return f
}

// storeData returns the store's data, looking it up through wasmtime-go
// once per call into wasm.
func (f *frame) storeData(caller *wasmtime.Caller) any {
	if !f.haveData {
		f.data, f.haveData = caller.Data(), true
	}
	return f.data
}

// recordPanic keeps the first panic of the call; later ones can only come
// from host functions that ran while wasm was already failing.
func (f *frame) recordPanic(v any) {
	if !f.panicked {
		f.panicked, f.panicVal = true, v
	}
}
