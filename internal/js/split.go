package js

import (
	"bytes"
	"encoding/binary"
)

// Trailer returns what Combine places at the end of the engine's initial
// memory for script: the script, padding, its length and "wjs1". Run as
// runtime.PreinitOptions.Trailer on the engine, it gives the memory the
// combined module starts with, so the node can pre-initialize the engine
// (whose instrumented compilation it keeps) instead of compiling each
// combined module.
func Trailer(script []byte) []byte {
	t := make([]byte, 0, len(script)+trailerLen)
	t = append(t, script...)
	t = append(t, make([]byte, trailerLen-8)...)
	t = binary.LittleEndian.AppendUint32(t, uint32(len(script)))
	return append(t, "wjs1"...)
}

// Split returns the script of a module Combine made with this engine,
// and false for any other module (another engine build, or not a
// combination at all). A node receiving a replicated JavaScript function
// gets the combined module, and uses Split to deploy it as a script.
func Split(wasm []byte) ([]byte, bool) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, false
	}
	for p := 8; p < len(wasm); {
		id := wasm[p]
		size, n, err := uleb(wasm[p+1:])
		if err != nil || p+1+n+int(size) > len(wasm) {
			return nil, false
		}
		body := wasm[p+1+n : p+1+n+int(size)]
		p += 1 + n + int(size)
		if id != secData {
			continue
		}
		if len(body) < trailerLen || string(body[len(body)-4:]) != "wjs1" {
			return nil, false
		}
		l := int(binary.LittleEndian.Uint32(body[len(body)-8:]))
		if l > len(body)-trailerLen {
			return nil, false
		}
		script := body[len(body)-trailerLen-l : len(body)-trailerLen]
		combined, err := Combine(script)
		if err != nil || !bytes.Equal(combined, wasm) {
			return nil, false
		}
		return append([]byte(nil), script...), true
	}
	return nil, false
}
