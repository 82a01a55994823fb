package runtime

import (
	"fmt"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/abi"
)

// A WASI call that fails returns an errno, and guests often drop it: a
// write through an out-of-bounds iovec then vanishes with no trace. The
// host notes such failures in the function's logs itself, one line per
// call per request ("wasi fd_write: EFAULT (iovec out of bounds)"), for
// the failures that are always a guest bug or lose data: EFAULT from any
// call, and any failed fd_write. Routine answers (EBADF from the
// fd_prestat_get scan every wasi-libc start does, ESPIPE from a probe
// seek) are not noted.

// noting wraps a WASI host function that returns an errno.
func noting(name string, fn hostFn) hostFn {
	return func(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		r, trap := fn(c, caller, a)
		if trap == nil && len(r) == 1 {
			if e := r[0].I32(); e == errnoFault || (e != errnoSuccess && name == "fd_write") {
				c.noteWASI(name, e, a)
			}
		}
		return r, trap
	}
}

// noteWASI logs a failed WASI call once per call name per request. The
// line is the host's, so it does not count against the guest's log
// budget (there are at most as many as WASI functions).
func (c *Call) noteWASI(name string, errno int32, a []wasmtime.Val) {
	if c.Env == nil || c.Env.Logs == nil {
		return
	}
	for _, n := range c.noted {
		if n == name {
			return
		}
	}
	c.noted = append(c.noted, name)
	line := fmt.Sprintf("wasi %s: %s (%s)", name, errnoName(errno), whyFailed(name, errno, a))
	c.Env.Logs.Append(c.Env.Function, c.RequestID, abi.LogWarn, "wedge", []byte(line))
}

func whyFailed(name string, errno int32, a []wasmtime.Val) string {
	switch {
	case errno == errnoFault && (name == "fd_write" || name == "fd_read"):
		return "iovec out of bounds"
	case errno == errnoFault:
		return "a pointer or length out of bounds of the guest's memory"
	case errno == errnoBadf && name == "fd_write":
		return fmt.Sprintf("fd %d is not open for writing; the output is lost", a[0].I32())
	}
	return "the output is lost"
}

func errnoName(e int32) string {
	switch e {
	case errnoSuccess:
		return "ESUCCESS"
	case errnoBadf:
		return "EBADF"
	case errnoFault:
		return "EFAULT"
	case errnoInval:
		return "EINVAL"
	case errnoNotdir:
		return "ENOTDIR"
	case errnoNotsock:
		return "ENOTSOCK"
	case errnoNotsup:
		return "ENOTSUP"
	case errnoSpipe:
		return "ESPIPE"
	case errnoNotcapable:
		return "ENOTCAPABLE"
	}
	return fmt.Sprintf("errno %d", e)
}
