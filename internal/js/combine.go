package js

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
)

//go:embed engine/wedge-js.wasm
var engine []byte

// Engine returns the engine module (without a script). The slice is
// shared: do not modify it.
func Engine() []byte { return engine }

// MaxScriptBytes bounds a script: 8 MiB.
const MaxScriptBytes = 8 << 20

// ErrInvalid reports a script that cannot be combined (empty, too large,
// not UTF-8 text).
var ErrInvalid = errors.New("invalid script")

const (
	pageSize   = 65536
	secMemory  = 5
	secData    = 11
	secDataCnt = 12
	// trailerLen bytes follow the script: zeros, then its length (u32
	// LE) and "wjs1" at the very end (engine/wedge_js.c, WEDGE_TRAILER).
	trailerLen = 256
)

// Combine returns the engine with script appended to its initial memory:
// the memory's minimum grows by enough pages to hold the script and an
// equal free gap below it, and a new active data segment writes the
// script, padding, its length and the magic "wjs1" so that they end at
// the new end of the initial memory. The result depends only on the engine and
// the script.
func Combine(script []byte) ([]byte, error) {
	return combine(engine, script)
}

func combine(eng, script []byte) ([]byte, error) {
	switch {
	case len(script) == 0:
		return nil, fmt.Errorf("%w: the script is empty", ErrInvalid)
	case len(script) > MaxScriptBytes:
		return nil, fmt.Errorf("%w: the script is %d bytes; the limit is %d", ErrInvalid, len(script), MaxScriptBytes)
	}
	for _, b := range script {
		if b == 0 {
			return nil, fmt.Errorf("%w: the script holds a NUL byte (is it a .wasm file?)", ErrInvalid)
		}
	}
	if len(eng) < 8 || string(eng[:4]) != "\x00asm" {
		return nil, errors.New("js: engine module is malformed")
	}
	out := make([]byte, 0, len(eng)+len(script)+64)
	out = append(out, eng[:8]...)
	seenMem, seenData := false, false
	var newMin uint32
	for p := 8; p < len(eng); {
		id := eng[p]
		size, n, err := uleb(eng[p+1:])
		if err != nil || p+1+n+int(size) > len(eng) {
			return nil, errors.New("js: engine module is malformed")
		}
		body := eng[p+1+n : p+1+n+int(size)]
		p += 1 + n + int(size)
		switch id {
		case secMemory:
			b, min, err := growMemory(body, len(script))
			if err != nil {
				return nil, err
			}
			newMin, seenMem = min, true
			out = appendSection(out, id, b)
		case secDataCnt:
			cnt, n, err := uleb(body)
			if err != nil || n != len(body) {
				return nil, errors.New("js: engine module is malformed")
			}
			out = appendSection(out, id, binary.AppendUvarint(nil, uint64(cnt+1)))
		case secData:
			if !seenMem {
				return nil, errors.New("js: engine module has no memory")
			}
			cnt, n, err := uleb(body)
			if err != nil {
				return nil, errors.New("js: engine module is malformed")
			}
			b := binary.AppendUvarint(nil, uint64(cnt+1))
			b = append(b, body[n:]...)
			b = appendSegment(b, newMin, script)
			seenData = true
			out = appendSection(out, id, b)
		default:
			out = appendSection(out, id, body)
		}
	}
	if !seenData {
		return nil, errors.New("js: engine module has no data section")
	}
	return out, nil
}

// growMemory rewrites the memory section so the minimum also holds the
// script, its trailer and a free gap as large as both below them.
func growMemory(body []byte, scriptLen int) ([]byte, uint32, error) {
	if len(body) < 3 || body[0] != 1 || (body[1] != 0 && body[1] != 1) {
		return nil, 0, errors.New("js: engine memory section is not one plain 32-bit memory")
	}
	flags := body[1]
	min, n, err := uleb(body[2:])
	if err != nil {
		return nil, 0, errors.New("js: engine module is malformed")
	}
	// As runtime.TrailerPages, which Trailer's users rely on.
	need := uint64(scriptLen+trailerLen)*2 + 1024
	newMin := uint64(min) + (need+pageSize-1)/pageSize
	b := []byte{1, flags}
	b = binary.AppendUvarint(b, newMin)
	if flags == 1 {
		max, _, err := uleb(body[2+n:])
		if err != nil {
			return nil, 0, errors.New("js: engine module is malformed")
		}
		if uint64(max) < newMin {
			return nil, 0, fmt.Errorf("%w: the script does not fit the engine's maximum memory", ErrInvalid)
		}
		b = binary.AppendUvarint(b, uint64(max))
	}
	return b, uint32(newMin), nil
}

// appendSegment appends an active segment for memory 0 holding script
// and its trailer, ending at the end of a memory of min pages.
func appendSegment(b []byte, min uint32, script []byte) []byte {
	total := len(script) + trailerLen
	offset := int64(min)*pageSize - int64(total)
	b = append(b, 0, 0x41) // active, memory 0; i32.const
	b = appendSleb(b, int32(offset))
	b = append(b, 0x0b)
	b = binary.AppendUvarint(b, uint64(total))
	b = append(b, script...)
	b = append(b, make([]byte, trailerLen-8)...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(script)))
	return append(b, "wjs1"...)
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = binary.AppendUvarint(out, uint64(len(body)))
	return append(out, body...)
}

func uleb(b []byte) (uint32, int, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || n > 5 || v > 1<<32-1 {
		return 0, 0, errors.New("bad leb128")
	}
	return uint32(v), n, nil
}

func appendSleb(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
