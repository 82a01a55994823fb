package snapshot

import (
	"fmt"
	"strconv"
)

// SplitMemoryModule and SplitMemoryName name the memory import Split adds
// to the code module.
const (
	SplitMemoryModule = "wedge_split"
	SplitMemoryName   = "memory"
)

// Split divides a module with one defined memory (a snapshot, typically)
// into two modules that, instantiated one after the other, behave as the
// original:
//
//   - code: the original with its memory turned into an import (appended
//     after the original imports as SplitMemoryModule.SplitMemoryName,
//     minimum 0, no maximum) and without its data section. Every other
//     section, custom ones included, is copied byte for byte; function,
//     global and memory indices do not change (a defined memory becomes
//     memory 0 again as the only imported one). code depends only on what
//     the original holds besides its memory and data: two snapshots of the
//     same program whose globals ended equal split to the same code.
//   - data: the original's type and import sections, its memory and its
//     data section, no code. It exports each of its imports again, in
//     order, under the names "0", "1", ..., then the memory: export "i"
//     is code's import i, for i < links.
//
// A data module compiles in milliseconds, and its data segments give the
// engine the same copy-on-write memory image as the original's. Split
// refuses (ErrUnsupported) a module without exactly one defined 32-bit
// memory or with a data count section (whose segment indices code could
// name).
func Split(wasm []byte) (code, data []byte, links int, err error) {
	m, err := parseModule(wasm)
	if err != nil {
		return nil, nil, 0, err
	}
	switch {
	case len(m.memories) != 1 || m.importedMemories != 0:
		return nil, nil, 0, fmt.Errorf("%w: split needs exactly one memory, defined", ErrUnsupported)
	case m.memories[0].flags > 1:
		return nil, nil, 0, fmt.Errorf("%w: split needs a plain 32-bit memory", ErrUnsupported)
	case m.dataCount:
		return nil, nil, 0, fmt.Errorf("%w: split of a module with a data count section", ErrUnsupported)
	}
	var imports []byte // the original entries, without their count
	if i := m.find(secImport); i >= 0 {
		r := &reader{b: m.sections[i].body}
		if _, err := r.u32(); err != nil {
			return nil, nil, 0, err
		}
		imports = r.b[r.off:]
	}
	n := len(m.importKinds)
	imp := appendU32(nil, uint32(n+1))
	imp = append(imp, imports...)
	imp = appendName(imp, SplitMemoryModule)
	imp = appendName(imp, SplitMemoryName)
	imp = append(imp, kindMemory, 0x00, 0x00) // min 0, no max
	code = m.emit(map[byte]edit{secImport: {body: imp}, secMemory: {drop: true}, secData: {drop: true}})

	exports := make([]export, 0, n+1)
	var next [5]uint32 // per kind
	for i, k := range m.importKinds {
		exports = append(exports, export{name: strconv.Itoa(i), kind: k, index: next[k]})
		next[k]++
	}
	exports = append(exports, export{name: strconv.Itoa(n), kind: kindMemory, index: 0})
	data = append([]byte(nil), wasmHeader...)
	for _, s := range m.sections {
		switch s.id {
		case secType, secImport, secMemory, secData:
			data = append(data, s.raw...)
		}
		if s.id == secMemory {
			// The export section comes after memory (and the absent
			// global section) and before data.
			data = appendSection(data, secExport, encodeExports(exports))
		}
	}
	return code, data, n + 1, nil
}
