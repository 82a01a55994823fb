package runtime

import (
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// WASI preview 1 errno values used by the host.
const (
	errnoSuccess    = 0
	errnoBadf       = 8
	errnoFault      = 21
	errnoInval      = 28
	errnoNotdir     = 54
	errnoNotsock    = 57
	errnoNotsup     = 58
	errnoSpipe      = 70
	errnoNotcapable = 76
)

const (
	filetypeCharDevice = 2
	rightsAll          = (1 << 29) - 1
)

// wasiFuncs implements WASI preview 1 in memory: stdio as logs (or the CGI
// request and response), clocks, randomness, environment and arguments,
// exit. There is no filesystem and no network: the calls on files,
// directories and sockets answer what POSIX and wasmtime answer for a
// descriptor that is not open (EBADF) or that is a stdio stream
// (wasi_fds.go). Failures a guest would not notice (a bad pointer, output
// to nowhere) are noted in the function's logs (wasi_notes.go).
func wasiFuncs(e *Engine) map[string]hostSig {
	errno := func(n int32) hostFn {
		return func(c *Call, _ *wasmtime.Caller, _ []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			return c.i32(n), nil
		}
	}
	m := map[string]hostSig{
		"args_get":          sig(kinds(i32, i32), kinds(i32), argsGet),
		"args_sizes_get":    sig(kinds(i32, i32), kinds(i32), argsSizesGet),
		"environ_get":       sig(kinds(i32, i32), kinds(i32), environGet),
		"environ_sizes_get": sig(kinds(i32, i32), kinds(i32), environSizesGet),
		"clock_res_get":     sig(kinds(i32, i32), kinds(i32), clockResGet),
		"clock_time_get": sig(kinds(i32, i64, i32), kinds(i32), func(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			return clockTimeGet(e, c, caller, a)
		}),
		// Calls on one descriptor: EBADF unless it is open; on stdio, what
		// POSIX answers for a pipe.
		"fd_advise":             sig(kinds(i32, i64, i64, i32), kinds(i32), onStdio(errnoSpipe)),
		"fd_allocate":           sig(kinds(i32, i64, i64), kinds(i32), onStdio(errnoSpipe)),
		"fd_close":              sig(kinds(i32), kinds(i32), fdClose),
		"fd_datasync":           sig(kinds(i32), kinds(i32), onStdio(errnoInval)),
		"fd_fdstat_get":         sig(kinds(i32, i32), kinds(i32), fdFdstatGet),
		"fd_fdstat_set_flags":   sig(kinds(i32, i32), kinds(i32), fdFdstatSetFlags),
		"fd_fdstat_set_rights":  sig(kinds(i32, i64, i64), kinds(i32), fdFdstatSetRights),
		"fd_filestat_get":       sig(kinds(i32, i32), kinds(i32), fdFilestatGet),
		"fd_filestat_set_size":  sig(kinds(i32, i64), kinds(i32), onStdio(errnoInval)),
		"fd_filestat_set_times": sig(kinds(i32, i64, i64, i32), kinds(i32), fdFilestatSetTimes),
		"fd_pread":              sig(kinds(i32, i32, i32, i64, i32), kinds(i32), onStdio(errnoSpipe)),
		"fd_prestat_get":        sig(kinds(i32, i32), kinds(i32), errno(errnoBadf)), // no preopens: wasi-libc's scan stops here
		"fd_prestat_dir_name":   sig(kinds(i32, i32, i32), kinds(i32), onStdio(errnoNotdir)),
		"fd_pwrite":             sig(kinds(i32, i32, i32, i64, i32), kinds(i32), onStdio(errnoSpipe)),
		"fd_read":               sig(kinds(i32, i32, i32, i32), kinds(i32), fdRead),
		"fd_readdir":            sig(kinds(i32, i32, i32, i64, i32), kinds(i32), onStdio(errnoNotdir)),
		"fd_renumber":           sig(kinds(i32, i32), kinds(i32), fdRenumber),
		"fd_seek":               sig(kinds(i32, i64, i32, i32), kinds(i32), onStdio(errnoSpipe)),
		"fd_sync":               sig(kinds(i32), kinds(i32), onStdio(errnoInval)),
		"fd_tell":               sig(kinds(i32, i32), kinds(i32), onStdio(errnoSpipe)),
		"fd_write":              sig(kinds(i32, i32, i32, i32), kinds(i32), fdWrite),
		// Paths resolve against a directory fd, and none exists.
		"path_create_directory":   sig(kinds(i32, i32, i32), kinds(i32), onDirs(0)),
		"path_filestat_get":       sig(kinds(i32, i32, i32, i32, i32), kinds(i32), onDirs(0)),
		"path_filestat_set_times": sig(kinds(i32, i32, i32, i32, i64, i64, i32), kinds(i32), onDirs(0)),
		"path_link":               sig(kinds(i32, i32, i32, i32, i32, i32, i32), kinds(i32), onDirs(0, 4)),
		"path_open":               sig(kinds(i32, i32, i32, i32, i32, i64, i64, i32, i32), kinds(i32), onDirs(0)),
		"path_readlink":           sig(kinds(i32, i32, i32, i32, i32, i32), kinds(i32), onDirs(0)),
		"path_remove_directory":   sig(kinds(i32, i32, i32), kinds(i32), onDirs(0)),
		"path_rename":             sig(kinds(i32, i32, i32, i32, i32, i32), kinds(i32), onDirs(0, 3)),
		"path_symlink":            sig(kinds(i32, i32, i32, i32, i32), kinds(i32), onDirs(2)),
		"path_unlink_file":        sig(kinds(i32, i32, i32), kinds(i32), onDirs(0)),
		"poll_oneoff":             sig(kinds(i32, i32, i32, i32), kinds(i32), pollOneoff),
		"proc_exit":               sig(kinds(i32), nil, procExit),
		"proc_raise":              sig(kinds(i32), kinds(i32), errno(errnoNotsup)),
		"random_get":              sig(kinds(i32, i32), kinds(i32), randomGet),
		"sched_yield":             sig(nil, kinds(i32), errno(errnoSuccess)),
		// Sockets: none can be opened, and stdio is not one.
		"sock_accept":   sig(kinds(i32, i32, i32), kinds(i32), onStdio(errnoNotsock)),
		"sock_recv":     sig(kinds(i32, i32, i32, i32, i32, i32), kinds(i32), onStdio(errnoNotsock)),
		"sock_send":     sig(kinds(i32, i32, i32, i32, i32), kinds(i32), onStdio(errnoNotsock)),
		"sock_shutdown": sig(kinds(i32, i32), kinds(i32), onStdio(errnoNotsock)),
	}
	for name, s := range m {
		if len(s.results) == 1 {
			s.fn = noting(name, s.fn)
			m[name] = s
		}
	}
	return m
}

// putU32 and putU64 write into guest memory after a bounds check.
func putU32(mem []byte, ptr int32, v uint32) bool {
	b, ok := span(mem, ptr, 4)
	if ok {
		binary.LittleEndian.PutUint32(b, v)
	}
	return ok
}

func putU64(mem []byte, ptr int32, v uint64) bool {
	b, ok := span(mem, ptr, 8)
	if ok {
		binary.LittleEndian.PutUint64(b, v)
	}
	return ok
}

func (c *Call) args() []string {
	if c.Env == nil {
		return []string{"wedge"}
	}
	return []string{c.Env.Function}
}

func (c *Call) environ() []string {
	if c.cgi {
		// Built on the guest's first environ call: a command that reads
		// no environment pays nothing for it. Never empty once built (the
		// CGI variables are always there).
		if len(c.cgiEnv) == 0 {
			c.buildCGIEnv()
		}
		return c.cgiEnv
	}
	if c.Env == nil {
		return nil
	}
	return c.Env.environ
}

// writeStrings implements args_get and environ_get: an array of pointers
// and a buffer of NUL-terminated strings.
func writeStrings(c *Call, caller *wasmtime.Caller, list []string, ptrs, buf int32) int32 {
	mem := c.guestMemory(caller)
	off := uint32(buf)
	for i, s := range list {
		if !putU32(mem, ptrs+int32(4*i), off) {
			return errnoFault
		}
		dst, ok := span(mem, int32(off), int32(len(s)+1))
		if !ok {
			return errnoFault
		}
		copy(dst, s)
		dst[len(s)] = 0
		off += uint32(len(s) + 1)
	}
	return errnoSuccess
}

func writeSizes(c *Call, caller *wasmtime.Caller, list []string, countPtr, sizePtr int32) int32 {
	size := 0
	for _, s := range list {
		size += len(s) + 1
	}
	mem := c.guestMemory(caller)
	if !putU32(mem, countPtr, uint32(len(list))) || !putU32(mem, sizePtr, uint32(size)) {
		return errnoFault
	}
	return errnoSuccess
}

func argsGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return c.i32(writeStrings(c, caller, c.args(), a[0].I32(), a[1].I32())), nil
}

func argsSizesGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return c.i32(writeSizes(c, caller, c.args(), a[0].I32(), a[1].I32())), nil
}

func environGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return c.i32(writeStrings(c, caller, c.environ(), a[0].I32(), a[1].I32())), nil
}

func environSizesGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return c.i32(writeSizes(c, caller, c.environ(), a[0].I32(), a[1].I32())), nil
}

func clockResGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	if id := a[0].I32(); id < 0 || id > 3 {
		return c.i32(errnoInval), nil
	}
	if !putU64(c.guestMemory(caller), a[1].I32(), 1000) {
		return c.i32(errnoFault), nil
	}
	return c.i32(errnoSuccess), nil
}

func clockTimeGet(e *Engine, c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	var now uint64
	if c.preinit != nil {
		// Pre-initialization sees a fixed clock that only the calls
		// themselves advance, so that a snapshot is reproducible.
		c.preinit.clock += 1000
		if a[0].I32() == 0 {
			now = preinitEpoch + c.preinit.clock
		} else {
			now = c.preinit.clock
		}
		if !putU64(c.guestMemory(caller), a[2].I32(), now) {
			return c.i32(errnoFault), nil
		}
		return c.i32(errnoSuccess), nil
	}
	switch a[0].I32() {
	case 0: // realtime
		now = uint64(time.Now().UnixNano())
	case 1, 2, 3: // monotonic; CPU clocks report monotonic time
		now = e.monotonic()
	default:
		return c.i32(errnoInval), nil
	}
	if !putU64(c.guestMemory(caller), a[2].I32(), now) {
		return c.i32(errnoFault), nil
	}
	return c.i32(errnoSuccess), nil
}

func fdFdstatGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	if c.fds.stream(a[0].I32()) < 0 {
		return c.i32(errnoBadf), nil
	}
	b, ok := span(c.guestMemory(caller), a[1].I32(), 24)
	if !ok {
		return c.i32(errnoFault), nil
	}
	clear(b)
	b[0] = filetypeCharDevice
	binary.LittleEndian.PutUint64(b[8:], rightsAll)
	return c.i32(errnoSuccess), nil
}

func fdFilestatGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	if c.fds.stream(a[0].I32()) < 0 {
		return c.i32(errnoBadf), nil
	}
	b, ok := span(c.guestMemory(caller), a[1].I32(), 64)
	if !ok {
		return c.i32(errnoFault), nil
	}
	clear(b)
	b[16] = filetypeCharDevice
	return c.i32(errnoSuccess), nil
}

// iovecs walks a WASI iovec array, calling fn for each buffer.
func iovecs(mem []byte, iovs, n int32, fn func([]byte) bool) bool {
	for i := int32(0); i < n; i++ {
		vec, ok := span(mem, iovs+8*i, 8)
		if !ok {
			return false
		}
		b, ok := span(mem, int32(binary.LittleEndian.Uint32(vec)), int32(binary.LittleEndian.Uint32(vec[4:])))
		if !ok {
			return false
		}
		if !fn(b) {
			break
		}
	}
	return true
}

func fdWrite(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	fd := c.fds.stream(a[0].I32())
	if fd != streamStdout && fd != streamStderr {
		return c.i32(errnoBadf), nil
	}
	mem := c.guestMemory(caller)
	total := 0
	ok := iovecs(mem, a[1].I32(), a[2].I32(), func(b []byte) bool {
		total += len(b)
		if fd == streamStdout && c.cgi {
			if len(c.Output)+len(b) > c.Env.Limits.MaxResponseBytes+cgiHeaderAllowance {
				c.hostKind, c.hostCause = ErrResponseTooLarge, "the response body exceeds the function's limit"
				return false
			}
			c.Output = append(c.Output, b...)
			return true
		}
		c.writeStream(fd, b)
		return true
	})
	if !ok {
		return c.i32(errnoFault), nil
	}
	if c.hostKind == ErrResponseTooLarge {
		return nil, c.hostTrap(ErrResponseTooLarge, "the response body exceeds the function's limit")
	}
	if !putU32(mem, a[3].I32(), uint32(total)) {
		return c.i32(errnoFault), nil
	}
	return c.i32(errnoSuccess), nil
}

func fdRead(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	if c.fds.stream(a[0].I32()) != streamStdin {
		return c.i32(errnoBadf), nil // not open, or not for reading
	}
	mem := c.guestMemory(caller)
	total := 0
	ok := iovecs(mem, a[1].I32(), a[2].I32(), func(b []byte) bool {
		if !c.cgi {
			return false
		}
		n := copy(b, c.Body[c.bodyOff:])
		c.bodyOff += n
		total += n
		return n == len(b)
	})
	if !ok {
		return c.i32(errnoFault), nil
	}
	if !putU32(mem, a[3].I32(), uint32(total)) {
		return c.i32(errnoFault), nil
	}
	return c.i32(errnoSuccess), nil
}

func randomGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	b, ok := span(c.guestMemory(caller), a[0].I32(), a[1].I32())
	if !ok {
		return c.i32(errnoFault), nil
	}
	if c.preinit != nil {
		c.preinit.rng.Read(b) // reproducible: seeded from the module
		return c.i32(errnoSuccess), nil
	}
	rand.Read(b)
	return c.i32(errnoSuccess), nil
}

func procExit(c *Call, _ *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	c.exited = true
	c.exitCode = a[0].I32()
	return nil, wasmtime.NewTrap("proc_exit")
}

// pollOneoff supports what language runtimes use it for: sleeping on a
// clock. File descriptor subscriptions are reported ready at once. Sleeps
// never outlast the invocation's deadline.
func pollOneoff(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	mem := c.guestMemory(caller)
	in, out, n := a[0].I32(), a[1].I32(), a[2].I32()
	if n <= 0 {
		return c.i32(errnoInval), nil
	}
	subs, ok1 := span(mem, in, 48*n)
	_, ok2 := span(mem, out, 32*n)
	if !ok1 || !ok2 {
		return c.i32(errnoFault), nil
	}
	hasFD := false
	var sleep time.Duration = -1
	for i := int32(0); i < n; i++ {
		s := subs[48*i:]
		switch s[8] {
		case 0: // clock
			timeout := time.Duration(binary.LittleEndian.Uint64(s[24:]))
			if binary.LittleEndian.Uint16(s[40:])&1 != 0 { // absolute
				id := binary.LittleEndian.Uint32(s[16:])
				if id == 0 {
					timeout = time.Until(time.Unix(0, int64(timeout)))
				} else {
					timeout -= time.Duration(c.monoBase + uint64(time.Since(c.base)))
				}
			}
			if timeout < 0 {
				timeout = 0
			}
			if sleep < 0 || timeout < sleep {
				sleep = timeout
			}
		case 1, 2: // fd_read, fd_write
			hasFD = true
		default:
			return c.i32(errnoInval), nil // no such event type
		}
	}
	if c.preinit != nil {
		c.preinit.clock += uint64(max(sleep, 0))
		sleep = 0
	}
	if !hasFD && sleep > 0 {
		if remain := time.Until(c.deadline); sleep > remain {
			time.Sleep(max(remain, 0))
			return nil, c.hostTrap(ErrTimeout, "time limit exceeded while sleeping")
		}
		time.Sleep(sleep)
	}
	mem = c.guestMemory(caller)
	subs, _ = span(mem, in, 48*n)
	events, _ := span(mem, out, 32*n)
	count := int32(0)
	for i := int32(0); i < n; i++ {
		s := subs[48*i:]
		if s[8] == 0 && hasFD {
			continue // fds won the race; clocks did not fire
		}
		ev := events[32*count : 32*count+32]
		clear(ev)
		copy(ev[0:8], s[0:8]) // userdata
		ev[10] = s[8]         // type
		if s[8] != 0 && !pollable(c, s[8], int32(binary.LittleEndian.Uint32(s[16:]))) {
			binary.LittleEndian.PutUint16(ev[8:], errnoBadf) // the event's error
		}
		count++
	}
	if !putU32(mem, a[3].I32(), uint32(count)) {
		return c.i32(errnoFault), nil
	}
	return c.i32(errnoSuccess), nil
}

// pollable reports whether an fd subscription (type 1 fd_read, 2
// fd_write) names a stream open in that direction; the event of one that
// does not carries EBADF.
func pollable(c *Call, typ byte, fd int32) bool {
	switch st := c.fds.stream(fd); typ {
	case 1:
		return st == streamStdin
	case 2:
		return st == streamStdout || st == streamStderr
	}
	return false
}
