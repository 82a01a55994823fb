package runtime

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/abi"
	"github.com/wedge-run/wedge/internal/tracing"
)

// wedgeFuncs are the functions of the wedge_v1 import module (abi/README.md).
func wedgeFuncs() map[string]hostSig {
	m := map[string]hostSig{
		abi.FnRequestHead:   sig(kinds(i32, i32), kinds(i32), requestHead),
		abi.FnRequestBody:   sig(kinds(i32, i32), kinds(i32), requestBody),
		abi.FnResponseHead:  sig(kinds(i32, i32, i32), kinds(i32), responseHead),
		abi.FnResponseWrite: sig(kinds(i32, i32), kinds(i32), responseWrite),
		abi.FnLog:           sig(kinds(i32, i32, i32), kinds(i32), logLine),
		abi.FnConfigGet:     sig(kinds(i32, i32, i32, i32), kinds(i32), configGet),
		abi.FnKVGet:         sig(kinds(i32, i32, i32, i32, i32, i32, i32), kinds(i32), kvGet),
		abi.FnKVPut:         sig(kinds(i32, i32, i32, i32, i32, i32, i64, i64), kinds(i64), kvPut),
		abi.FnKVDelete:      sig(kinds(i32, i32, i32, i32, i64), kinds(i32), kvDelete),
		abi.FnKVIncrement:   sig(kinds(i32, i32, i32, i32, i64, i32), kinds(i32), kvIncrement),
		abi.FnKVList:        sig(kinds(i32, i32, i32, i32, i32, i32, i32, i32, i32), kinds(i32), kvList),
		abi.FnEventGet:      sig(kinds(i32, i32), kinds(i32), eventGet),
		abi.FnQueuePublish:  sig(kinds(i32, i32, i32, i32), kinds(i32), queuePublish),
		abi.FnObjectRead:    sig(kinds(i32, i32, i32, i32, i64, i32, i32), kinds(i64), objectRead),
	}
	httpFuncs(m)
	return m
}

func oob(c *Call, fn string) *wasmtime.Trap {
	return c.hostTrap(ErrTrap, "wedge_v1."+fn+": pointer out of bounds")
}

// sizeNeeded copies src into the guest buffer if it fits and returns
// len(src) either way.
func sizeNeeded(c *Call, caller *wasmtime.Caller, fn string, src []byte, buf, capacity int32) ([]wasmtime.Val, *wasmtime.Trap) {
	mem := c.guestMemory(caller)
	dst, ok := span(mem, buf, capacity)
	if !ok {
		return nil, oob(c, fn)
	}
	if len(src) <= len(dst) {
		copy(dst, src)
	}
	return c.i32(int32(len(src))), nil
}

func requestHead(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return sizeNeeded(c, caller, abi.FnRequestHead, c.Head, a[0].I32(), a[1].I32())
}

func requestBody(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	dst, ok := span(c.guestMemory(caller), a[0].I32(), a[1].I32())
	if !ok {
		return nil, oob(c, abi.FnRequestBody)
	}
	n := copy(dst, c.Body[c.bodyOff:])
	c.bodyOff += n
	return c.i32(int32(n)), nil
}

func responseHead(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	status := a[0].I32()
	src, ok := span(c.guestMemory(caller), a[1].I32(), a[2].I32())
	if !ok {
		return nil, oob(c, abi.FnResponseHead)
	}
	if status < 200 || status > 999 {
		return c.code(abi.ErrInvalid), nil
	}
	err := abi.DecodeHeaders(src, func(name, value []byte) error {
		if !validHeader(name, value) {
			return abi.ErrMalformed
		}
		return nil
	})
	if errors.Is(err, abi.ErrTooManyHeaders) {
		return c.code(abi.ErrTooLarge), nil
	}
	if err != nil {
		return c.code(abi.ErrInvalid), nil
	}
	c.Status = int(status)
	c.Headers = append(c.Headers[:0], src...)
	return c.i32(0), nil
}

func responseWrite(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	src, ok := span(c.guestMemory(caller), a[0].I32(), a[1].I32())
	if !ok {
		return nil, oob(c, abi.FnResponseWrite)
	}
	if len(c.Output)+len(src) > c.Env.Limits.MaxResponseBytes {
		c.hostKind, c.hostCause = ErrResponseTooLarge, "the response body exceeds the function's limit"
		return c.code(abi.ErrTooLarge), nil
	}
	c.Output = append(c.Output, src...)
	return c.i32(int32(len(src))), nil
}

func logLine(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	src, ok := span(c.guestMemory(caller), a[1].I32(), a[2].I32())
	if !ok {
		return nil, oob(c, abi.FnLog)
	}
	level := a[0].I32()
	if level < abi.LogDebug || level > abi.LogError {
		level = abi.LogInfo
	}
	c.log(level, "log", src)
	return c.i32(0), nil
}

func configGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	mem := c.guestMemory(caller)
	key, ok := span(mem, a[0].I32(), a[1].I32())
	if !ok {
		return nil, oob(c, abi.FnConfigGet)
	}
	v, found := c.Env.Config[string(key)]
	if !found {
		if _, ok := span(mem, a[2].I32(), a[3].I32()); !ok {
			return nil, oob(c, abi.FnConfigGet)
		}
		return c.code(abi.ErrNotFound), nil
	}
	return sizeNeeded(c, caller, abi.FnConfigGet, []byte(v), a[2].I32(), a[3].I32())
}

// kvArgs reads and authorizes the namespace and key arguments shared by
// the kv_* functions.
func kvArgs(c *Call, mem []byte, fn string, a []wasmtime.Val) (ns, key string, code abi.Code, trap *wasmtime.Trap) {
	nsb, ok1 := span(mem, a[0].I32(), a[1].I32())
	keyb, ok2 := span(mem, a[2].I32(), a[3].I32())
	if !ok1 || !ok2 {
		return "", "", 0, oob(c, fn)
	}
	if c.Env.KV == nil {
		return "", "", abi.ErrUnsupported, nil
	}
	ns, code = c.Env.kvNamespace(string(nsb))
	if code != abi.OK {
		return "", "", code, nil
	}
	if len(keyb) > abi.MaxKeyLen {
		return "", "", abi.ErrTooLarge, nil
	}
	return ns, string(keyb), abi.OK, nil
}

// codeOf maps a backend error to an ABI code.
func codeOf(err error) abi.Code {
	var code abi.Code
	if errors.As(err, &code) {
		return code
	}
	return abi.ErrInternal
}

func kvGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	mem := c.guestMemory(caller)
	ns, key, code, trap := kvArgs(c, mem, abi.FnKVGet, a)
	if trap != nil {
		return nil, trap
	}
	if _, ok := span(mem, a[4].I32(), a[5].I32()); !ok {
		return nil, oob(c, abi.FnKVGet)
	}
	verOut := a[6].I32()
	if verOut != 0 {
		if _, ok := span(mem, verOut, 8); !ok {
			return nil, oob(c, abi.FnKVGet)
		}
	}
	if code != abi.OK {
		return c.code(code), nil
	}
	_, sp := c.hostSpan("kv.get", ns, "/", key)
	val, ver, err := c.Env.KV.Get(ns, key)
	endSpan(sp, kvSpanErr(err))
	if err != nil {
		return c.code(codeOf(err)), nil
	}
	mem = c.guestMemory(caller) // unchanged: no guest code ran, but be explicit
	if verOut != 0 {
		binary.LittleEndian.PutUint64(mem[uint32(verOut):], ver)
	}
	return sizeNeeded(c, caller, abi.FnKVGet, val, a[4].I32(), a[5].I32())
}

func kvPut(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	mem := c.guestMemory(caller)
	ns, key, code, trap := kvArgs(c, mem, abi.FnKVPut, a)
	if trap != nil {
		return nil, trap
	}
	val, ok := span(mem, a[4].I32(), a[5].I32())
	if !ok {
		return nil, oob(c, abi.FnKVPut)
	}
	if code != abi.OK {
		return c.i64(-int64(code)), nil
	}
	if len(val) > abi.MaxValueLen {
		return c.i64(-int64(abi.ErrTooLarge)), nil
	}
	ttl := time.Duration(a[6].I64()) * time.Millisecond
	if ttl < 0 {
		return c.i64(-int64(abi.ErrInvalid)), nil
	}
	var ver uint64
	var err error
	if c.Trace != nil {
		sctx, sp := c.hostSpan("kv.put", ns, "/", key)
		if tk, ok := c.Env.KV.(TracedKV); ok {
			ver, err = tk.PutTraced(tracing.TraceParent(sctx), ns, key, append([]byte(nil), val...), ttl, a[7].I64())
		} else {
			ver, err = c.Env.KV.Put(ns, key, append([]byte(nil), val...), ttl, a[7].I64())
		}
		endSpan(sp, err)
	} else {
		ver, err = c.Env.KV.Put(ns, key, append([]byte(nil), val...), ttl, a[7].I64())
	}
	if err != nil {
		return c.i64(-int64(codeOf(err))), nil
	}
	return c.i64(int64(ver)), nil
}

func kvDelete(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	ns, key, code, trap := kvArgs(c, c.guestMemory(caller), abi.FnKVDelete, a)
	if trap != nil {
		return nil, trap
	}
	if code != abi.OK {
		return c.code(code), nil
	}
	_, sp := c.hostSpan("kv.delete", ns, "/", key)
	err := c.Env.KV.Delete(ns, key, a[4].I64())
	endSpan(sp, err)
	if err != nil {
		return c.code(codeOf(err)), nil
	}
	return c.i32(0), nil
}

func kvIncrement(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	mem := c.guestMemory(caller)
	ns, key, code, trap := kvArgs(c, mem, abi.FnKVIncrement, a)
	if trap != nil {
		return nil, trap
	}
	out, ok := span(mem, a[5].I32(), 8)
	if !ok {
		return nil, oob(c, abi.FnKVIncrement)
	}
	if code != abi.OK {
		return c.code(code), nil
	}
	_, sp := c.hostSpan("kv.increment", ns, "/", key)
	n, err := c.Env.KV.Increment(ns, key, a[4].I64())
	endSpan(sp, err)
	if err != nil {
		return c.code(codeOf(err)), nil
	}
	binary.LittleEndian.PutUint64(out, uint64(n))
	return c.i32(0), nil
}

func kvList(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	mem := c.guestMemory(caller)
	nsb, ok1 := span(mem, a[0].I32(), a[1].I32())
	prefix, ok2 := span(mem, a[2].I32(), a[3].I32())
	cursor, ok3 := span(mem, a[4].I32(), a[5].I32())
	_, ok4 := span(mem, a[7].I32(), a[8].I32())
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, oob(c, abi.FnKVList)
	}
	if c.Env.KV == nil {
		return c.code(abi.ErrUnsupported), nil
	}
	ns, code := c.Env.kvNamespace(string(nsb))
	if code != abi.OK {
		return c.code(code), nil
	}
	limit := int(a[6].I32())
	if limit <= 0 || limit > 1000 {
		return c.code(abi.ErrInvalid), nil
	}
	pfx := string(prefix)
	_, sp := c.hostSpan("kv.list", ns, "/", pfx)
	keys, next, err := c.Env.KV.List(ns, pfx, string(cursor), limit)
	endSpan(sp, err)
	if err != nil {
		return c.code(codeOf(err)), nil
	}
	page := c.scratch[:0]
	page = abi.AppendU32(page, uint32(len(keys)))
	for _, k := range keys {
		page = abi.AppendString(page, k)
	}
	page = abi.AppendString(page, next)
	c.scratch = page
	return sizeNeeded(c, caller, abi.FnKVList, page, a[7].I32(), a[8].I32())
}

// validHeader accepts a token name and a value without CR, LF or NUL.
func validHeader(name, value []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, ch := range name {
		if ch <= ' ' || ch >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", ch) >= 0 {
			return false
		}
	}
	for _, ch := range value {
		if ch == '\r' || ch == '\n' || ch == 0 {
			return false
		}
	}
	return true
}

func eventGet(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	if c.Event == nil {
		if _, ok := span(c.guestMemory(caller), a[0].I32(), a[1].I32()); !ok {
			return nil, oob(c, abi.FnEventGet)
		}
		return c.code(abi.ErrNotFound), nil
	}
	return sizeNeeded(c, caller, abi.FnEventGet, c.Event, a[0].I32(), a[1].I32())
}

func queuePublish(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	mem := c.guestMemory(caller)
	q, ok1 := span(mem, a[0].I32(), a[1].I32())
	body, ok2 := span(mem, a[2].I32(), a[3].I32())
	if !ok1 || !ok2 {
		return nil, oob(c, abi.FnQueuePublish)
	}
	if c.Env.Events == nil {
		return c.code(abi.ErrUnsupported), nil
	}
	if len(body) > abi.MaxValueLen {
		return c.code(abi.ErrTooLarge), nil
	}
	var err error
	if c.Trace != nil {
		sctx, sp := c.hostSpan("queue.publish", string(q), "", "")
		if te, ok := c.Env.Events.(TracedEvents); ok {
			err = te.PublishTraced(tracing.TraceParent(sctx), string(q), append([]byte(nil), body...))
		} else {
			err = c.Env.Events.Publish(string(q), append([]byte(nil), body...))
		}
		endSpan(sp, err)
	} else {
		err = c.Env.Events.Publish(string(q), append([]byte(nil), body...))
	}
	if err != nil {
		return c.code(codeOf(err)), nil
	}
	return c.i32(0), nil
}

func objectRead(c *Call, caller *wasmtime.Caller, a []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	mem := c.guestMemory(caller)
	bucket, ok1 := span(mem, a[0].I32(), a[1].I32())
	name, ok2 := span(mem, a[2].I32(), a[3].I32())
	dst, ok3 := span(mem, a[5].I32(), a[6].I32())
	if !ok1 || !ok2 || !ok3 {
		return nil, oob(c, abi.FnObjectRead)
	}
	if c.Env.Events == nil {
		return c.i64(-int64(abi.ErrUnsupported)), nil
	}
	n, err := c.Env.Events.ReadObject(c.Env.Function, string(bucket), string(name), a[4].I64(), dst)
	if err != nil {
		return c.i64(-int64(codeOf(err))), nil
	}
	return c.i64(int64(n)), nil
}
