package snapshot

import (
	"fmt"
	"strconv"
)

// Names the instrumented module exports, and the export the rewrite
// removes.
const (
	// GlobalExportPrefix, followed by the global's index in the module's
	// global index space, names each exported global.
	GlobalExportPrefix = "__wedge_snapshot_global_"
	// MemoryExport names the module's memory in the instrumented module,
	// whether or not the module exports it under another name as well.
	MemoryExport = "__wedge_snapshot_memory"
	// InitializeExport is the WASI reactor initializer: a Runner calls it
	// if the module exports it, and the rewritten module no longer does.
	InitializeExport = "_initialize"
)

// Instrument returns a copy of wasm that additionally exports every global
// the module defines whose value fits a Value (i32, i64, f32, f64; mutable
// or not) under GlobalExportPrefix+index, and its memory, if it defines
// one, under MemoryExport. globals lists them in index order.
//
// Imported globals are not exported: an immutable one is supplied afresh
// by the host to every instance and is left to it; an imported mutable
// global makes the module unsupported, since its value after
// initialization would live in the host. Defined immutable globals of
// other types (v128, references) are not exported and keep their
// initializer; mutable ones make the module unsupported.
//
// Instrument refuses (ErrUnsupported) modules whose state a rewrite could
// not carry: an imported memory, more than one memory, a 64-bit or shared
// memory. Nothing else in the module changes.
func Instrument(wasm []byte) (instrumented []byte, globals []GlobalInfo, err error) {
	m, err := parseModule(wasm)
	if err != nil {
		return nil, nil, err
	}
	if err := m.check(); err != nil {
		return nil, nil, err
	}
	globals = m.globalInfos()
	exports := append([]export(nil), m.exports...)
	taken := make(map[string]bool, len(exports))
	for _, e := range exports {
		taken[e.name] = true
	}
	add := func(name string, kind byte, index uint32) error {
		if taken[name] {
			return fmt.Errorf("%w: the module already exports %q", ErrUnsupported, name)
		}
		taken[name] = true
		exports = append(exports, export{name: name, kind: kind, index: index})
		return nil
	}
	for _, g := range globals {
		if err := add(g.ExportName, kindGlobal, g.Index); err != nil {
			return nil, nil, err
		}
	}
	if len(m.memories) == 1 {
		if err := add(MemoryExport, kindMemory, 0); err != nil {
			return nil, nil, err
		}
	}
	out := m.emit(map[byte]edit{secExport: {body: encodeExports(exports)}})
	return out, globals, nil
}

// check refuses modules whose initialized state a rewrite cannot express.
func (m *module) check() error {
	switch {
	case m.importedMemories > 0:
		return fmt.Errorf("%w: the memory is imported, so its contents belong to the host", ErrUnsupported)
	case len(m.memories) > 1:
		return fmt.Errorf("%w: %d memories (multi-memory); only a single defined memory can be snapshotted", ErrUnsupported, len(m.memories))
	case m.mutableImport != "":
		return fmt.Errorf("%w: imported mutable global %s: its value after initialization lives in the host", ErrUnsupported, m.mutableImport)
	}
	for i, g := range m.globals {
		if g.mutable && !g.typ.numeric() {
			return fmt.Errorf("%w: mutable global %d has type %s, whose value cannot be captured", ErrUnsupported, m.importedGlobals+uint32(i), g.typ)
		}
	}
	return nil
}

// globalInfos lists the defined globals whose values are captured.
func (m *module) globalInfos() []GlobalInfo {
	var out []GlobalInfo
	for i, g := range m.globals {
		if !g.typ.numeric() {
			continue
		}
		idx := m.importedGlobals + uint32(i)
		out = append(out, GlobalInfo{
			Index:      idx,
			Type:       g.typ,
			Mutable:    g.mutable,
			ExportName: GlobalExportPrefix + strconv.FormatUint(uint64(idx), 10),
		})
	}
	return out
}
