package runtime

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/tracing"
	"github.com/wedge-run/wedge/internal/wasmpool"
)

// Invoke runs one request in a fresh instance of m: a new store with the
// function's limits, instantiation, _initialize if exported, the entry
// point, and explicit teardown. The response is left in c. The error, if
// any, is a *GuestError whose Kind is one of the invocation sentinels.
//
// Invoke never lets a guest take the process down: traps, time limits,
// memory limits and host-call faults all come back as errors.
func (m *Module) Invoke(c *Call) (err error) {
	if !m.Retain() {
		return guestErr(ErrClosed, "the function was replaced or removed", "")
	}
	defer m.Release()
	e := m.engine
	e.stats.Invocations.Add(1)
	e.stats.InstancesNow.Add(1)
	e.enter()
	defer func() {
		e.leave()
		e.stats.InstancesNow.Add(-1)
	}()

	lim := c.Env.Limits
	c.base = e.start
	c.monoBase = uint64(e.start.UnixNano())
	c.deadline = time.Now().Add(lim.Timeout)
	c.cgi = m.Entry == EntryCGI && c.Event == nil
	c.fds = fdTable{} // every instance starts with stdio open
	if c.Status == 0 {
		c.Status = 200
	}

	store := wasmtime.NewStoreWithData(e.engine, c)
	defer store.Close()
	store.Limiter(lim.MemoryBytes, lim.TableElements, 16, 16, 1)
	e.setDeadline(store, lim.Timeout)

	defer func() {
		// A panic in a host function resurfaces here once the guest's
		// frames have unwound; turn it into a failed request.
		if r := recover(); r != nil {
			err = guestErr(ErrTrap, "host function failed", fmt.Sprint(r))
		}
		c.flushStreams()
		c.closeOutbound()
		if err != nil {
			var ge *GuestError
			if errors.As(err, &ge) {
				switch ge.Kind {
				case ErrTimeout:
					e.stats.Timeouts.Add(1)
				case ErrTrap:
					e.stats.Traps.Add(1)
				}
			}
		}
	}()

	var inst *wasmtime.Instance
	var ierr error
	_, isp := tracing.Child(c.Trace, "instantiate", tracing.KindInternal)
	switch {
	case m.code != nil: // split.go
		if w := m.whole.Load(); w != nil {
			inst, ierr = w.pre.Instantiate(store)
		} else {
			inst, ierr = m.pre.InstantiateLinked(store, m.code.mod, m.links)
		}
	case m.pre != nil:
		inst, ierr = m.pre.Instantiate(store)
	default:
		inst, ierr = e.linker.Instantiate(store, m.mod)
	}
	isp.End()
	if ierr != nil {
		if wasmpool.IsPoolExhausted(ierr) {
			return guestErr(ErrBusy, "every instance slot of the node is in use", ierr.Error())
		}
		return m.classify(c, store, ierr)
	}
	// Exports are looked up and called through wasmpool's fast path: no
	// finalized wrapper objects and no allocations per call.
	if mem, ok := wasmpool.LookupMemory(store, inst, abi.ExportMemory); ok {
		c.mem = mem
	}
	if c.Trace != nil {
		var run tracing.Span
		c.Trace, run = tracing.Child(c.Trace, "guest.run", tracing.KindInternal)
		defer func() { endSpan(run, err) }()
	}
	if m.HasInit {
		f, _ := wasmpool.LookupFunc(store, inst, abi.ExportInitialize)
		if cerr := wasmpool.Call(store, f); cerr != nil {
			return m.classify(c, store, cerr)
		}
	}
	switch {
	case c.Event != nil:
		f, ok := wasmpool.LookupFunc(store, inst, abi.ExportEvent)
		if !ok {
			return guestErr(ErrHandler, "the module has no event entry (wedge_event)", "")
		}
		r, cerr := wasmpool.CallI32(store, f, int32(len(c.Event)))
		if cerr != nil {
			return m.classify(c, store, cerr)
		}
		if r != 0 {
			return guestErr(ErrHandler, fmt.Sprintf("event handler returned %d", r), "")
		}
	case m.Entry == EntryNative:
		f, _ := wasmpool.LookupFunc(store, inst, abi.ExportHandle)
		r, cerr := wasmpool.CallI32(store, f, int32(len(c.Head)), int32(len(c.Body)))
		if cerr != nil {
			return m.classify(c, store, cerr)
		}
		if c.hostKind != nil {
			return guestErr(c.hostKind, c.hostCause, "")
		}
		if r != 0 {
			return guestErr(ErrHandler, fmt.Sprintf("handler returned %d", r), "")
		}
	default:
		f, _ := wasmpool.LookupFunc(store, inst, abi.ExportStart)
		if cerr := wasmpool.Call(store, f); cerr != nil {
			if !(c.exited && c.exitCode == 0) {
				return m.classify(c, store, cerr)
			}
		}
		if c.hostKind != nil {
			return guestErr(c.hostKind, c.hostCause, "")
		}
		if perr := c.parseCGI(); perr != nil {
			return perr
		}
	}
	return nil
}

// classify turns an engine error into a *GuestError with a short,
// client-safe cause.
func (m *Module) classify(c *Call, store *wasmtime.Store, err error) error {
	detail := err.Error()
	if i := strings.Index(detail, "\nStack backtrace:"); i >= 0 {
		detail = detail[:i]
	}
	if c.exited {
		if c.exitCode == 0 && c.cgi {
			return nil
		}
		return guestErr(ErrExit, fmt.Sprintf("the function exited with code %d", c.exitCode), detail)
	}
	if c.hostKind != nil {
		return guestErr(c.hostKind, c.hostCause, detail)
	}
	var trap *wasmtime.Trap
	if errors.As(err, &trap) {
		if code := trap.Code(); code != nil {
			switch *code {
			case wasmtime.Interrupt:
				return guestErr(ErrTimeout, fmt.Sprintf("the function ran past its %s time limit", c.Env.Limits.Timeout), detail)
			case wasmtime.StackOverflow:
				return guestErr(ErrTrap, "stack overflow", detail)
			case wasmtime.MemoryOutOfBounds:
				return guestErr(ErrTrap, "out-of-bounds memory access", detail)
			case wasmtime.UnreachableCodeReached:
				cause := "unreachable instruction executed (the guest panicked or aborted)"
				if m.nearMemoryLimit(c, store) {
					cause = fmt.Sprintf("the function reached its memory limit (%d MiB)", c.Env.Limits.MemoryBytes>>20)
				}
				return guestErr(ErrTrap, cause, detail)
			case wasmtime.IntegerDivisionByZero:
				return guestErr(ErrTrap, "integer division by zero", detail)
			case wasmtime.IndirectCallToNull, wasmtime.BadSignature, wasmtime.TableOutOfBounds:
				return guestErr(ErrTrap, "bad indirect call", detail)
			}
		}
		return guestErr(ErrTrap, firstLine(trap.Message()), detail)
	}
	msg := shortError(err)
	if strings.Contains(detail, "interrupt") {
		return guestErr(ErrTimeout, fmt.Sprintf("the function ran past its %s time limit", c.Env.Limits.Timeout), detail)
	}
	if m.nearMemoryLimit(c, store) || strings.Contains(detail, "memory minimum size") {
		msg = fmt.Sprintf("the function needs more memory than its limit (%d MiB)", c.Env.Limits.MemoryBytes>>20)
	}
	return guestErr(ErrTrap, msg, detail)
}

// nearMemoryLimit reports whether the guest's memory is within 1 MiB of
// its limit, which explains most traps that follow a failed memory.grow.
func (m *Module) nearMemoryLimit(c *Call, store *wasmtime.Store) bool {
	if c.mem == nil {
		return false
	}
	return int64(c.mem.DataSize(store))+(1<<20) >= c.Env.Limits.MemoryBytes
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimPrefix(s, "wasm trap: ")
	return strings.TrimSpace(s)
}
