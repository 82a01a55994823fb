// Command linkcheck is built by TestLinkNormalBinary: it proves that a
// plain `go build` of a program importing wasmpool links (the wasmtime
// symbols come from wasmtime-go's libwasmtime.a) and runs.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/internal/wasmpool"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "linkcheck:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}

func run() error {
	cfg := wasmtime.NewConfig()
	if err := wasmpool.EnablePooling(cfg, wasmpool.PoolConfig{TotalCoreInstances: 2}); err != nil {
		return err
	}
	engine := wasmtime.NewEngineWithConfig(cfg)
	defer engine.Close()
	wasm, err := wasmtime.Wat2Wasm(`(module
	  (import "env" "double" (func $double (param i32) (result i32)))
	  (memory (export "memory") 1)
	  (func (export "f") (result i32) (i32.const 7))
	  (func (export "g") (param i32) (result i32) (call $double (local.get 0))))`)
	if err != nil {
		return err
	}
	module, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		return err
	}
	linker := wasmtime.NewLinker(engine)
	defer linker.Close()
	// A host function through this package's own trampoline (call.c calls
	// back into the Go function host.go exports).
	i32 := []wasmtime.ValKind{wasmtime.KindI32}
	err = wasmpool.DefineFunc(linker, "env", "double", i32, i32,
		func(_ any, _ *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
			return []wasmtime.Val{wasmtime.ValI32(2 * args[0].I32())}, nil
		})
	if err != nil {
		return err
	}
	pre, err := wasmpool.NewInstancePre(linker, module)
	if err != nil {
		return err
	}
	defer pre.Close()
	store := wasmtime.NewStore(engine)
	defer store.Close()
	inst, err := pre.Instantiate(store)
	if err != nil {
		return err
	}
	v, err := inst.GetFunc(store, "f").Call(store)
	if err != nil {
		return err
	}
	if v.(int32) != 7 {
		return fmt.Errorf("f() = %v", v)
	}
	g, ok := wasmpool.LookupFunc(store, inst, "g")
	if !ok {
		return fmt.Errorf("no export g")
	}
	if r, err := wasmpool.CallI32(store, g, 21); err != nil || r != 42 {
		return fmt.Errorf("g(21) = %v, %v", r, err)
	}
	mem, ok := wasmpool.LookupMemory(store, inst, "memory")
	if !ok || len(wasmpool.MemoryData(store, mem)) != 1<<16 {
		return fmt.Errorf("memory: %v", ok)
	}
	// A built binary carries its build information: the engine identity
	// names the linked wasmtime-go version and go.sum hash (test binaries
	// carry no dependencies, hence the check here).
	if wt := wasmpool.LinkedWasmtime(); !strings.HasPrefix(wt.Version, "v39.") || !strings.HasPrefix(wt.Sum, "h1:") {
		return fmt.Errorf("LinkedWasmtime() = %+v, want v39.x with an h1: sum", wt)
	}
	if id := wasmpool.EngineIdentity(wasmpool.PoolConfig{}, ""); !strings.HasPrefix(id, "wt39.") {
		return fmt.Errorf("EngineIdentity = %q, want it to name wasmtime-go 39", id)
	}
	return wasmpool.FastPathErr()
}
