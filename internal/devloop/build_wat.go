package devloop

import (
	"context"
	"os"
	"path/filepath"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// watBuilder converts a WebAssembly text file in process: no toolchain,
// a few milliseconds.
type watBuilder struct{ path string }

func (b watBuilder) Build(context.Context) ([]byte, error) {
	src, err := os.ReadFile(b.path)
	if err != nil {
		return nil, &BuildError{What: b.String(), Err: err}
	}
	wasm, err := wasmtime.Wat2Wasm(string(src))
	if err != nil {
		// wat's message names the line and column: "expected `)`\n --> <anon>:3:5".
		return nil, &BuildError{What: b.String(), Output: err.Error(), Err: errSyntax}
	}
	return wasm, nil
}

func (b watBuilder) String() string { return "wat2wasm " + base(b.path) }

func base(path string) string { return filepath.Base(path) }
