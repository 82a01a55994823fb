package runtime

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/runtime/outbound"
	"github.com/wedge-run/wedge/internal/wasmpool"
)

// Call is one invocation: the request handed to the guest and the response
// it produced. Get one with NewCall, fill the request fields, pass it to
// Module.Invoke, read the response fields, and give it back with Release.
type Call struct {
	Env       *Env
	RequestID string
	// Head is the ABI-encoded request head (laid out in abi/README.md;
	// the gateway's appendHead writes it, abi.NewReader reads it).
	Head []byte
	// Body is the request body.
	Body []byte
	// Event is the encoded event for the event entry (triggers).
	Event []byte
	// Trace holds the span of the request or event this call serves
	// (internal/tracing); nil when the invocation is not traced, which
	// keeps every span helper free.
	Trace context.Context

	// Status, Headers (an ABI-encoded header list, possibly empty) and
	// Output (the body) are the response.
	Status  int
	Headers []byte
	Output  []byte

	// per-invocation host state
	bodyOff   int
	mem       *wasmtime.Memory
	cgi       bool
	exited    bool
	exitCode  int32
	hostCause string // why a host function trapped
	hostKind  error
	logBytes  int
	lines     [3]bytes.Buffer // partial lines of fd 1 and 2
	deadline  time.Time
	base      time.Time     // the engine's start
	monoBase  uint64        // the monotonic clock's value at base
	cgiEnv    []string      // built on the guest's first environ call; empty before
	preinit   *preinitState // set while a snapshot is being taken
	ret       [1]wasmtime.Val
	scratch   []byte
	fds       fdTable              // stdio as the guest closed and renumbered it
	noted     []string             // WASI calls whose failure is in the logs already
	outResp   []*outbound.Response // open outbound responses; handle = index+1
	outSent   int                  // outbound requests sent by this invocation
}

var callPool = sync.Pool{New: func() any { return new(Call) }}

// NewCall returns an empty Call from a pool.
func NewCall() *Call { return callPool.Get().(*Call) }

// Release returns c to the pool; c must not be used afterwards.
func (c *Call) Release() {
	c.reset()
	callPool.Put(c)
}

func (c *Call) reset() {
	c.Env = nil
	c.RequestID = ""
	c.Head = c.Head[:0]
	c.Body = nil
	c.Event = nil
	c.Trace = nil
	c.Status = 0
	c.Headers = c.Headers[:0]
	if cap(c.Output) > 1<<20 {
		c.Output = nil
	} else {
		c.Output = c.Output[:0]
	}
	c.closeOutbound()
	c.bodyOff = 0
	c.mem = nil
	c.cgi = false
	c.exited = false
	c.exitCode = 0
	c.hostCause = ""
	c.hostKind = nil
	c.logBytes = 0
	c.cgiEnv = c.cgiEnv[:0]
	c.preinit = nil
	for i := range c.lines {
		c.lines[i].Reset()
	}
	c.ret[0] = wasmtime.Val{}
	c.fds = fdTable{}
	c.noted = c.noted[:0]
}

// hostTrap records why a host function is trapping and returns the trap.
func (c *Call) hostTrap(kind error, cause string) *wasmtime.Trap {
	if c.hostKind == nil {
		c.hostKind = kind
		c.hostCause = cause
	}
	return wasmtime.NewTrap(cause)
}

func (c *Call) i32(v int32) []wasmtime.Val {
	c.ret[0] = wasmtime.ValI32(v)
	return c.ret[:1]
}

func (c *Call) i64(v int64) []wasmtime.Val {
	c.ret[0] = wasmtime.ValI64(v)
	return c.ret[:1]
}

func (c *Call) code(code abi.Code) []wasmtime.Val { return c.i32(-int32(code)) }

// log sends one complete line to the function's log sink, within the
// per-invocation budget.
func (c *Call) log(level int32, stream string, line []byte) {
	if c.Env == nil || c.Env.Logs == nil {
		return
	}
	if len(line) > abi.MaxLogLine {
		line = line[:abi.MaxLogLine]
	}
	if c.logBytes >= c.Env.Limits.MaxLogBytes {
		return
	}
	c.logBytes += len(line)
	c.Env.Logs.Append(c.Env.Function, c.RequestID, level, stream, line)
}

// writeStream appends WASI output for fd 1 or 2 to the logs, line by line.
func (c *Call) writeStream(fd int, p []byte) {
	buf := &c.lines[fd]
	level, stream := abi.LogInfo, "stdout"
	if fd == 2 {
		level, stream = abi.LogWarn, "stderr"
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if buf.Len() < abi.MaxLogLine {
				buf.Write(p)
			}
			return
		}
		if buf.Len() > 0 {
			buf.Write(p[:i])
			c.log(level, stream, buf.Bytes())
			buf.Reset()
		} else {
			c.log(level, stream, p[:i])
		}
		p = p[i+1:]
	}
}

// flushStreams logs partial lines left at the end of an invocation.
func (c *Call) flushStreams() {
	for fd := 1; fd <= 2; fd++ {
		if c.lines[fd].Len() > 0 {
			c.writeStream(fd, []byte{'\n'})
		}
	}
}

// guestMemory returns the guest's linear memory as a slice. It is valid
// only until the guest runs again (memory.grow may move it).
func (c *Call) guestMemory(caller *wasmtime.Caller) []byte {
	if c.mem == nil {
		ext := caller.GetExport(abi.ExportMemory)
		if ext == nil || ext.Memory() == nil {
			return nil
		}
		c.mem = ext.Memory()
	}
	return wasmpool.MemoryData(caller, c.mem)
}

// span bounds-checks a guest (pointer, length) pair.
func span(mem []byte, ptr, n int32) ([]byte, bool) {
	p, l := uint64(uint32(ptr)), uint64(uint32(n))
	if p+l > uint64(len(mem)) {
		return nil, false
	}
	return mem[p : p+l : p+l], true
}
