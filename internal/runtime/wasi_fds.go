package runtime

import (
	"github.com/bytecodealliance/wasmtime-go/v39"
)

// The descriptor table of an invocation. Only stdio exists: fd 0 reads
// the request body (CGI) or nothing, fds 1 and 2 write the response (CGI
// stdout) or the logs. They are streams, like pipes: not seekable, not
// directories, not sockets. A guest may close them and renumber them onto
// one another; nothing else ever opens, since there is no filesystem and
// no network. What every WASI call answers on that table is in the
// README's table (abi/README.md) and docs/RATIONALE.md.
//
// The zero value is the initial table (0, 1, 2 open on themselves), so a
// pooled Call needs only zeroing.
type fdTable struct {
	closed uint8    // bit fd set: fd is closed
	moved  [3]uint8 // 0: fd is its own stream; s+1: fd was renumbered to stream s
}

// stdio streams.
const (
	streamStdin  = 0
	streamStdout = 1
	streamStderr = 2
)

// stream returns the stdio stream fd refers to, or -1 if fd is not open.
func (t *fdTable) stream(fd int32) int {
	if fd < 0 || fd > 2 || t.closed&(1<<fd) != 0 {
		return -1
	}
	if m := t.moved[fd]; m != 0 {
		return int(m) - 1
	}
	return int(fd)
}

func (t *fdTable) close(fd int32) int32 {
	if t.stream(fd) < 0 {
		return errnoBadf
	}
	t.closed |= 1 << fd
	return errnoSuccess
}

// renumber is fd_renumber: to becomes what from was, from is closed. Both
// must be open (wasmtime's rule; POSIX dup2 would also take a closed to).
func (t *fdTable) renumber(from, to int32) int32 {
	s := t.stream(from)
	if s < 0 || t.stream(to) < 0 {
		return errnoBadf
	}
	if from == to {
		return errnoSuccess
	}
	t.moved[to] = uint8(s) + 1
	t.closed |= 1 << from
	return errnoSuccess
}

// onStdio answers EBADF for an fd that is not open and errno for stdio:
// the calls that make no sense on a stream.
func onStdio(errno int32) hostFn {
	return func(c *Call, _ *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		if c.fds.stream(a[0].I32()) < 0 {
			return c.i32(errnoBadf), nil
		}
		return c.i32(errno), nil
	}
}

// onDirs is a path_* call whose directory fds are the arguments at the
// given indexes: EBADF if one is not open (no directory is ever
// preopened), else ENOTDIR (stdio is no directory).
func onDirs(idx ...int) hostFn {
	return func(c *Call, _ *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		for _, i := range idx {
			if c.fds.stream(a[i].I32()) < 0 {
				return c.i32(errnoBadf), nil
			}
		}
		return c.i32(errnoNotdir), nil
	}
}

func fdClose(c *Call, _ *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return c.i32(c.fds.close(a[0].I32())), nil
}

func fdRenumber(c *Call, _ *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return c.i32(c.fds.renumber(a[0].I32(), a[1].I32())), nil
}

// fdflags of fd_fdstat_set_flags.
const (
	fdflagAppend   = 1
	fdflagNonblock = 4
)

// fdFdstatSetFlags accepts APPEND and NONBLOCK on stdio (writes to a
// stream always append, and nothing here blocks; Go's wasip1 runtime sets
// NONBLOCK on its stdio) and refuses the sync flags with EINVAL, as
// wasmtime does.
func fdFdstatSetFlags(c *Call, _ *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	if c.fds.stream(a[0].I32()) < 0 {
		return c.i32(errnoBadf), nil
	}
	if uint32(a[1].I32())&^(fdflagAppend|fdflagNonblock) != 0 {
		return c.i32(errnoInval), nil
	}
	return c.i32(errnoSuccess), nil
}

// fdFdstatSetRights may only drop rights: asking for one fd_fdstat_get
// does not report is ENOTCAPABLE. (Dropped rights are not enforced: stdio
// calls are few and each checks what makes sense on a stream.)
func fdFdstatSetRights(c *Call, _ *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	if c.fds.stream(a[0].I32()) < 0 {
		return c.i32(errnoBadf), nil
	}
	if uint64(a[1].I64())&^rightsAll != 0 || uint64(a[2].I64())&^rightsAll != 0 {
		return c.i32(errnoNotcapable), nil
	}
	return c.i32(errnoSuccess), nil
}

// fstflags of fd_filestat_set_times.
const (
	fstAtim    = 1
	fstAtimNow = 2
	fstMtim    = 4
	fstMtimNow = 8
)

// fdFilestatSetTimes validates its flags first (EINVAL for a time both
// given and "now", or an unknown bit, as utimensat and wasmtime do), then
// accepts and ignores times on stdio, as Linux does for a pipe.
func fdFilestatSetTimes(c *Call, _ *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	f := uint32(a[3].I32())
	if f&^(fstAtim|fstAtimNow|fstMtim|fstMtimNow) != 0 ||
		f&(fstAtim|fstAtimNow) == fstAtim|fstAtimNow || f&(fstMtim|fstMtimNow) == fstMtim|fstMtimNow {
		return c.i32(errnoInval), nil
	}
	if c.fds.stream(a[0].I32()) < 0 {
		return c.i32(errnoBadf), nil
	}
	return c.i32(errnoSuccess), nil
}
