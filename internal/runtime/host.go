package runtime

import (
	"fmt"
	"strings"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/internal/wasmpool"
)

// hostFn is a host function body. It runs on the invoking goroutine with
// the Call of the current store.
type hostFn func(c *Call, caller *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap)

// hostSig is a host function's type and body.
type hostSig struct {
	params, results []wasmtime.ValKind
	fn              hostFn
}

const (
	i32 = wasmtime.KindI32
	i64 = wasmtime.KindI64
)

func sig(params []wasmtime.ValKind, results []wasmtime.ValKind, fn hostFn) hostSig {
	return hostSig{params: params, results: results, fn: fn}
}

func kinds(k ...wasmtime.ValKind) []wasmtime.ValKind { return k }

// defineHost links every host function of every import module.
func (e *Engine) defineHost() error {
	e.hosts = map[string]map[string]hostSig{
		"wedge_v1":               wedgeFuncs(),
		"wasi_snapshot_preview1": wasiFuncs(e),
	}
	for mod, fns := range e.hosts {
		for name, s := range fns {
			fn := s.fn
			err := wasmpool.DefineFunc(e.linker, mod, name, s.params, s.results, func(data any, caller *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
				c, _ := data.(*Call)
				if c == nil {
					return nil, wasmtime.NewTrap("host call outside an invocation")
				}
				return fn(c, caller, args)
			})
			if err != nil {
				return fmt.Errorf("%s.%s: %w", mod, name, err)
			}
		}
	}
	return nil
}

// sigString renders a function type as the errors show it: "(i32 i32) -> (i32)".
func sigString(params, results []string) string {
	return "(" + strings.Join(params, " ") + ") -> (" + strings.Join(results, " ") + ")"
}

// HostFunctions lists every import the host provides as "module.name".
func (e *Engine) HostFunctions() []string {
	var out []string
	for mod, fns := range e.hosts {
		for name := range fns {
			out = append(out, mod+"."+name)
		}
	}
	return out
}
