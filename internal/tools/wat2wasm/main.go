// Command wat2wasm converts WebAssembly text to a binary module:
//
//	go run ./internal/tools/wat2wasm in.wat > out.wasm
package main

import (
	"fmt"
	"os"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: wat2wasm FILE.wat > FILE.wasm")
		os.Exit(2)
	}
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wasm, err := wasmtime.Wat2Wasm(string(src))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(wasm)
}
