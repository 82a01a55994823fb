package snapshot

import (
	"fmt"
	"slices"
)

// maxDataSegments is the engines' limit on a module's data segments.
const maxDataSegments = 100_000

// Rewrite returns original with st baked in, as a module whose fresh
// instances start in the state the initializer left behind:
//
//   - each defined mutable global's initializer becomes a constant holding
//     its captured value; immutable globals keep their initializers;
//   - the memory's minimum becomes the captured size in pages (the maximum
//     is kept);
//   - the active data segments are replaced by new ones holding the
//     non-zero runs of the captured memory (see mergeGap, maxSegments);
//   - the "_initialize" export and the start section are removed, since
//     both have already run;
//   - every other section, custom ones included, is copied byte for byte.
//
// Data segment indices: memory.init and data.drop can name a segment only
// when the module has a data count section. Without one, no code refers to
// segments by index, and the data section holds just the snapshot's
// segments. With one, the original segments keep their indices: passive
// ones are copied unchanged and active ones become empty passive segments
// (as observable to memory.init and data.drop as the dropped segment an
// active one is after instantiation); the snapshot's segments follow them,
// and the data count is updated.
//
// info must be what Instrument returned for original, and st.Globals must
// hold one value per entry of info.
func Rewrite(original []byte, info []GlobalInfo, st State) ([]byte, error) {
	out, _, err := rewrite(original, info, st)
	return out, err
}

// layout describes the memory image a rewrite produced.
type layout struct {
	nonZero      int // non-zero bytes in the captured memory
	segments     int // active segments emitted
	segmentBytes int // bytes those segments hold
}

func rewrite(original []byte, info []GlobalInfo, st State) ([]byte, layout, error) {
	m, err := parseModule(original)
	if err != nil {
		return nil, layout{}, err
	}
	if err := m.check(); err != nil {
		return nil, layout{}, err
	}
	if !slices.Equal(info, m.globalInfos()) {
		return nil, layout{}, fmt.Errorf("%w: the global list does not describe this module (was it instrumented from other bytes?)", ErrState)
	}
	if len(st.Globals) != len(info) {
		return nil, layout{}, fmt.Errorf("%w: %d global values for %d globals", ErrState, len(st.Globals), len(info))
	}
	edits := map[byte]edit{secStart: {drop: true}}
	if len(m.globals) > 0 {
		edits[secGlobal] = edit{body: m.globalSection(info, st.Globals)}
	}
	if m.hasExports {
		kept := slices.DeleteFunc(slices.Clone(m.exports), func(e export) bool { return e.name == InitializeExport })
		edits[secExport] = edit{body: encodeExports(kept)}
	}
	var spans []span
	var lay layout
	switch {
	case len(m.memories) == 1:
		body, err := memorySection(m.memories[0], len(st.Memory))
		if err != nil {
			return nil, lay, err
		}
		edits[secMemory] = edit{body: body}
		spans, lay.nonZero = nonZeroSpans(st.Memory, mergeGap)
	case len(st.Memory) != 0:
		return nil, lay, fmt.Errorf("%w: a memory image for a module without memory", ErrState)
	}
	if err := m.dataSections(edits, spans, st.Memory, &lay); err != nil {
		return nil, lay, err
	}
	return m.emit(edits), lay, nil
}

// globalSection re-encodes the global section with each mutable global's
// captured value as its initializer.
func (m *module) globalSection(info []GlobalInfo, values []Value) []byte {
	captured := make(map[uint32]Value, len(info))
	for i, g := range info {
		if g.Mutable {
			captured[g.Index] = values[i]
		}
	}
	body := appendU32(nil, uint32(len(m.globals)))
	for i, g := range m.globals {
		body = append(body, g.typeRaw...)
		if v, ok := captured[m.importedGlobals+uint32(i)]; ok {
			body = appendConst(body, g.typ, v)
		} else {
			body = append(body, g.init...)
		}
	}
	return body
}

// memorySection encodes the single memory with a minimum of size bytes.
func memorySection(mem limits, size int) ([]byte, error) {
	if size%pageSize != 0 {
		return nil, fmt.Errorf("%w: memory image of %d bytes is not a whole number of 64 KiB pages", ErrState, size)
	}
	pages := uint64(size / pageSize)
	hasMax := mem.flags&1 != 0
	if pages < mem.min || (hasMax && pages > mem.max) || pages > 1<<16 {
		limit := "none"
		if hasMax {
			limit = fmt.Sprint(mem.max)
		}
		return nil, fmt.Errorf("%w: memory image of %d pages is outside the memory's limits (min %d, max %s)", ErrState, pages, mem.min, limit)
	}
	body := appendU32(nil, 1)
	body = append(body, mem.flags)
	body = appendU64(body, pages)
	if hasMax {
		body = appendU64(body, mem.max)
	}
	return body, nil
}

// dataSections sets the data (and data count) section edits: the kept
// original segments, if segment indices are observable, then one active
// segment per span of mem.
func (m *module) dataSections(edits map[byte]edit, spans []span, mem []byte, lay *layout) error {
	kept := 0
	if m.dataCount {
		kept = len(m.data)
	}
	limit := min(maxSegments, maxDataSegments-kept)
	if limit < 1 && len(spans) > 0 {
		return fmt.Errorf("%w: %d data segments leave no room for the snapshot's", ErrUnsupported, kept)
	}
	spans = capSpans(spans, limit)
	total := kept + len(spans)
	size := 5
	for _, d := range m.data[:kept] {
		size += len(d.raw)
	}
	for _, s := range spans {
		size += 16 + s.end - s.off
	}
	body := make([]byte, 0, size)
	body = appendU32(body, uint32(total))
	for _, d := range m.data[:kept] {
		if d.passive {
			body = append(body, d.raw...)
		} else {
			body = append(body, 0x01, 0x00) // empty passive segment
		}
	}
	for _, s := range spans {
		body = append(body, 0x00, opI32Const)
		body = appendS64(body, int64(int32(uint32(s.off))))
		body = append(body, opEnd)
		body = appendU32(body, uint32(s.end-s.off))
		body = append(body, mem[s.off:s.end]...)
		lay.segmentBytes += s.end - s.off
	}
	lay.segments = len(spans)
	if total == 0 {
		edits[secData] = edit{drop: true}
	} else {
		edits[secData] = edit{body: body}
	}
	if m.dataCount {
		edits[secDataCount] = edit{body: appendU32(nil, uint32(total))}
	}
	return nil
}
