// Command wazero-baseline is the benchmark suite's in-repo peer: it serves
// a wedge native-entry module (the WAT hello example) with wazero, a
// WebAssembly runtime written in pure Go, the way wedge serves it with
// wasmtime. The module is compiled once at start; every request gets a
// fresh, anonymous module instance that is closed after the response is
// taken, over fasthttp.
//
//	wazero-baseline --module hello.wasm --addr 127.0.0.1:0
//
// It implements the one host import the hello example uses,
// wedge_v1.response_write(ptr, len) -> len, and calls
// wedge_handle(0, 0): no request head or body is offered, no limits are
// set. Once listening it prints "wazero VERSION listening http://ADDR" on
// stdout; it runs until SIGINT or SIGTERM.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/valyala/fasthttp"
)

func main() {
	module := flag.String("module", "", "the wedge native-entry module to serve (`FILE`.wasm, required)")
	addr := flag.String("addr", "127.0.0.1:0", "listen `ADDR`")
	interp := flag.Bool("interpreter", false, "use wazero's interpreter instead of its compiler")
	flag.Parse()
	if *module == "" {
		fmt.Fprintln(os.Stderr, "wazero-baseline: --module is required")
		os.Exit(2)
	}
	if err := run(*module, *addr, *interp); err != nil {
		fmt.Fprintf(os.Stderr, "wazero-baseline: %v\n", err)
		os.Exit(1)
	}
}

// respKey carries the per-request response buffer to the host function.
type respKey struct{}

// responseWrite is wedge_v1.response_write(ptr, len i32) -> i32: it
// appends guest memory [ptr, ptr+len) to the response and returns len, or
// -3 (bad pointer) when the range is outside memory.
func responseWrite(ctx context.Context, m api.Module, stack []uint64) {
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	b, ok := m.Memory().Read(ptr, n)
	buf, _ := ctx.Value(respKey{}).(*bytes.Buffer)
	if !ok || buf == nil {
		stack[0] = api.EncodeI32(-3)
		return
	}
	buf.Write(b)
	stack[0] = api.EncodeI32(int32(n))
}

func run(path, addr string, interp bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wasm, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	handler, closeRuntime, err := newHandler(ctx, wasm, interp)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer closeRuntime()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &fasthttp.Server{Name: "wazero-baseline", Handler: handler}
	fmt.Printf("wazero %s listening http://%s\n", wazeroVersion(), ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		if err := srv.Shutdown(); err != nil {
			return err
		}
		return <-served
	}
}

// newHandler compiles wasm once and returns a handler that runs every
// request in a fresh instance of it, and a function releasing the runtime.
func newHandler(ctx context.Context, wasm []byte, interp bool) (fasthttp.RequestHandler, func(), error) {
	cfg := wazero.NewRuntimeConfigCompiler()
	if interp {
		cfg = wazero.NewRuntimeConfigInterpreter()
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	closeRuntime := func() { rt.Close(context.Background()) }
	i32 := api.ValueTypeI32
	if _, err := rt.NewHostModuleBuilder("wedge_v1").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(responseWrite), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		Export("response_write").
		Instantiate(ctx); err != nil {
		closeRuntime()
		return nil, nil, err
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		closeRuntime()
		return nil, nil, err
	}
	if _, ok := compiled.ExportedFunctions()["wedge_handle"]; !ok {
		closeRuntime()
		return nil, nil, fmt.Errorf("the module does not export wedge_handle")
	}
	// Anonymous instances may exist many at a time; no start function runs.
	modCfg := wazero.NewModuleConfig().WithName("").WithStartFunctions()

	handler := func(rc *fasthttp.RequestCtx) {
		var buf bytes.Buffer
		callCtx := context.WithValue(context.Background(), respKey{}, &buf)
		mod, err := rt.InstantiateModule(callCtx, compiled, modCfg)
		if err != nil {
			rc.Error("instantiate: "+err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		res, err := mod.ExportedFunction("wedge_handle").Call(callCtx, 0, 0)
		mod.Close(callCtx)
		if err != nil || len(res) != 1 || api.DecodeI32(res[0]) != 0 {
			rc.Error(fmt.Sprintf("wedge_handle failed: %v %v", err, res), fasthttp.StatusInternalServerError)
			return
		}
		rc.SetContentType("text/plain; charset=utf-8")
		rc.SetBody(buf.Bytes())
	}
	return handler, closeRuntime, nil
}

// wazeroVersion is the wazero module version this binary was built with.
func wazeroVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				return d.Version
			}
		}
	}
	return "unknown"
}
