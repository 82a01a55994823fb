package runtime

import (
	"fmt"
	"strings"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/abi"
)

// check applies the deploy-time rules to what a module declares: every
// import is a host function of the right type, and the exports make an
// entry point (native, CGI or event). It describes the module, or says
// what is wrong. Compile runs it before compiling (on readDecls) and
// Load on the compiled module (declsOf): one set of rules for both.
func (e *Engine) check(d *decls) (Info, error) {
	var info Info
	var unknown []string
	for _, imp := range d.imports {
		full := imp.module + "." + imp.name
		info.Imports = append(info.Imports, full)
		if why := e.checkImport(imp); why != "" {
			unknown = append(unknown, full+" ("+why+")")
		}
	}
	if len(unknown) > 0 {
		return info, fmt.Errorf("%w: %s", ErrUnknownImports, strings.Join(unknown, ", "))
	}
	exports := map[string]extern{}
	for _, ex := range d.exports {
		exports[ex.name] = ex
		info.Exports = append(info.Exports, ex.name)
	}
	has := func(name string) bool { _, ok := exports[name]; return ok }
	isFunc := func(name string, params, results int) bool {
		ex, ok := exports[name]
		if !ok || ex.kind != externFunc || ex.fn == nil || len(ex.fn.params) != params || len(ex.fn.results) != results {
			return false
		}
		for _, t := range append(append([]string(nil), ex.fn.params...), ex.fn.results...) {
			if t != "i32" {
				return false
			}
		}
		return true
	}
	hasMemory := func() bool { ex, ok := exports[abi.ExportMemory]; return ok && ex.kind == externMemory }
	if has(abi.ExportInitialize) {
		if !isFunc(abi.ExportInitialize, 0, 0) {
			return info, fmt.Errorf("%w: _initialize must be a function with no parameters and no results", ErrNoEntry)
		}
		info.HasInit = true
	}
	info.HasEvent = isFunc(abi.ExportEvent, 1, 1)
	switch {
	case has(abi.ExportHandle):
		if !isFunc(abi.ExportHandle, 2, 1) {
			return info, fmt.Errorf("%w: wedge_handle must have type (func (param i32 i32) (result i32))", ErrNoEntry)
		}
		if !hasMemory() {
			return info, fmt.Errorf("%w: the native entry needs an exported memory named \"memory\"", ErrNoEntry)
		}
		info.Entry = EntryNative
	case has(abi.ExportStart):
		if !isFunc(abi.ExportStart, 0, 0) {
			return info, fmt.Errorf("%w: _start must be a function with no parameters and no results", ErrNoEntry)
		}
		info.Entry = EntryCGI
	case info.HasEvent:
		if !hasMemory() {
			return info, fmt.Errorf("%w: the event entry needs an exported memory named \"memory\"", ErrNoEntry)
		}
		info.Entry = EntryNative
	default:
		return info, fmt.Errorf("%w: the module exports neither %q (native entry) nor %q (WASI command)", ErrNoEntry, abi.ExportHandle, abi.ExportStart)
	}
	return info, nil
}

// checkImport explains why an import cannot be satisfied, or returns "".
func (e *Engine) checkImport(imp extern) string {
	fns, ok := e.hosts[imp.module]
	if !ok {
		return "unknown import module"
	}
	s, ok := fns[imp.name]
	if !ok {
		return "not provided by the host"
	}
	if imp.kind != externFunc {
		return "must be a function, not a " + kindName(imp.kind)
	}
	want := sigString(kindNames(s.params), kindNames(s.results))
	if imp.fn == nil {
		return "not a plain function type, host provides " + want
	}
	if got := sigString(imp.fn.params, imp.fn.results); got != want {
		return "type " + got + ", host provides " + want
	}
	return ""
}

// checkFits refuses a module that could never be instantiated under lim:
// a memory or table whose declared minimum is above the function's limit
// would fail every request (and a minimum beyond the pooling allocator's
// slots would fail to compile with a message about the allocator).
func (e *Engine) checkFits(d *decls, lim Limits) error {
	if e.pooling && len(d.memories) > 1 {
		return fmt.Errorf("%w: the module has %d memories; a function may have one", ErrOverLimits, len(d.memories))
	}
	if e.pooling && len(d.tables) > 1 {
		return fmt.Errorf("%w: the module has %d tables; a function may have one", ErrOverLimits, len(d.tables))
	}
	for _, m := range d.memories {
		if b := m.minBytes(); b > uint64(lim.MemoryBytes) {
			return fmt.Errorf("%w: memory minimum %s (%d pages) exceeds the function's limit of %s",
				ErrOverLimits, mib(b), m.min, mib(uint64(lim.MemoryBytes)))
		}
	}
	for _, n := range d.tables {
		if n > uint64(lim.TableElements) {
			return fmt.Errorf("%w: table minimum of %d elements exceeds the limit of %d", ErrOverLimits, n, lim.TableElements)
		}
	}
	return nil
}

// mib formats a byte count in MiB, with a decimal only when needed.
func mib(b uint64) string {
	if b%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", b>>20)
	}
	return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20))
}

// declsOf describes a compiled module (one loaded from the artifact
// cache, whose bytes are not at hand). Memories and tables that are
// neither imported nor exported are not visible through the engine's API
// and are left out: their limits were checked when the module was
// deployed.
func declsOf(mod *wasmtime.Module) *decls {
	d := &decls{}
	describe := func(ty *wasmtime.ExternType) (byte, *funcType) {
		switch {
		case ty.FuncType() != nil:
			ft := ty.FuncType()
			return externFunc, &funcType{params: valTypeNames(ft.Params()), results: valTypeNames(ft.Results())}
		case ty.MemoryType() != nil:
			return externMemory, nil
		case ty.TableType() != nil:
			return externTable, nil
		case ty.GlobalType() != nil:
			return externGlobal, nil
		}
		return externTag, nil
	}
	for _, imp := range mod.Imports() {
		ex := extern{module: imp.Module()}
		if imp.Name() != nil {
			ex.name = *imp.Name()
		}
		ex.kind, ex.fn = describe(imp.Type())
		d.imports = append(d.imports, ex)
	}
	for _, exp := range mod.Exports() {
		ex := extern{name: exp.Name()}
		ex.kind, ex.fn = describe(exp.Type())
		d.exports = append(d.exports, ex)
	}
	return d
}

func valTypeNames(ts []*wasmtime.ValType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = kindNames([]wasmtime.ValKind{t.Kind()})[0]
	}
	return out
}

// kindNames names value kinds as readDecls does. (wasmtime.ValKind's
// String panics on kinds it does not list, such as v128.)
func kindNames(ks []wasmtime.ValKind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		switch k {
		case wasmtime.KindI32:
			out[i] = "i32"
		case wasmtime.KindI64:
			out[i] = "i64"
		case wasmtime.KindF32:
			out[i] = "f32"
		case wasmtime.KindF64:
			out[i] = "f64"
		case wasmtime.KindFuncref:
			out[i] = "funcref"
		case wasmtime.KindExternref:
			out[i] = "externref"
		default: // the C API has no other kinds; a v128 or GC type shows up as something else
			out[i] = "unknown"
		}
	}
	return out
}
