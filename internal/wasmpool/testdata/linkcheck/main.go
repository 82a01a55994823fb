// Command linkcheck is built by TestLinkNormalBinary: it proves that a
// plain `go build` of a program importing wasmpool links (the wasmtime
// symbols come from wasmtime-go's libwasmtime.a) and runs.
package main

import (
	"fmt"
	"os"

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
	wasm, err := wasmtime.Wat2Wasm(`(module (func (export "f") (result i32) (i32.const 7)))`)
	if err != nil {
		return err
	}
	module, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		return err
	}
	linker := wasmtime.NewLinker(engine)
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
	return nil
}
