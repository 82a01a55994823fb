package snapshot

import (
	"bytes"
	"fmt"
)

// Section ids of the core binary format.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElem      = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// sectionRank is the position at which each known non-custom section must
// appear. The tag section sits between memory and global; data count
// between element and code.
var sectionRank = map[byte]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5, secTag: 6,
	secGlobal: 7, secExport: 8, secStart: 9, secElem: 10, secDataCount: 11, secCode: 12, secData: 13,
}

// External kinds, as in import and export entries.
const (
	kindFunc   = 0
	kindTable  = 1
	kindMemory = 2
	kindGlobal = 3
	kindTag    = 4
)

// pageSize is the size of a 32-bit memory's page.
const pageSize = 65536

var wasmHeader = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// section is one section of the input, kept as its exact bytes so that
// sections this package does not change are copied unaltered.
type section struct {
	id   byte
	raw  []byte // id byte, size and payload, as in the input
	body []byte // payload only
}

type limits struct {
	flags    byte // 0x00: min only; 0x01: min and max
	min, max uint64
}

type global struct {
	typ     ValType // first byte of the value type
	typeRaw []byte  // value type and mutability byte, as encoded
	mutable bool
	init    []byte // constant expression, including its final end
}

type export struct {
	name  string
	kind  byte
	index uint32
}

type dataSegment struct {
	passive bool
	raw     []byte // the whole entry, flags to last byte
}

// module is the parse of the parts of a module this package reads or
// rewrites. Everything else stays inside the sections' raw bytes.
type module struct {
	sections []section

	importKinds      []byte // kind of each import, in order
	importedGlobals  uint32
	importedMemories int
	mutableImport    string // "module.name" of the first imported mutable global

	memories   []limits // defined memories
	globals    []global // defined globals
	exports    []export
	hasExports bool
	data       []dataSegment
	dataCount  bool
}

// find returns the index in m.sections of the section with the given id,
// or -1.
func (m *module) find(id byte) int {
	for i, s := range m.sections {
		if s.id == id {
			return i
		}
	}
	return -1
}

func parseModule(b []byte) (*module, error) {
	if len(b) < len(wasmHeader) || !bytes.Equal(b[:4], wasmHeader[:4]) {
		return nil, fmt.Errorf("%w: not a WebAssembly binary", ErrMalformed)
	}
	if !bytes.Equal(b[4:8], wasmHeader[4:]) {
		return nil, fmt.Errorf("%w: binary version or layer %x (components are not core modules)", ErrUnsupported, b[4:8])
	}
	m := &module{}
	r := &reader{b: b, off: len(wasmHeader)}
	lastRank := 0
	for !r.done() {
		start := r.off
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		body, err := r.vec()
		if err != nil {
			return nil, err
		}
		if id != secCustom {
			rank, ok := sectionRank[id]
			if !ok {
				return nil, fmt.Errorf("%w: unknown section id %d", ErrUnsupported, id)
			}
			if rank <= lastRank {
				return nil, fmt.Errorf("%w: section %d is out of order or repeated", ErrMalformed, id)
			}
			lastRank = rank
		}
		m.sections = append(m.sections, section{id: id, raw: b[start:r.off], body: body})
	}
	for _, s := range m.sections {
		var err error
		switch s.id {
		case secImport:
			err = m.parseImports(s.body)
		case secMemory:
			err = m.parseMemories(s.body)
		case secGlobal:
			err = m.parseGlobals(s.body)
		case secExport:
			err = m.parseExports(s.body)
		case secData:
			err = m.parseData(s.body)
		case secDataCount:
			m.dataCount = true
		}
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", s.id, err)
		}
	}
	return m, nil
}

// count reads a vector's element count. Every element takes at least one
// byte, which bounds allocations by the input's size.
func count(r *reader) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		return 0, r.errorf("count %d exceeds the bytes left", n)
	}
	return int(n), nil
}

func (m *module) parseImports(body []byte) error {
	r := &reader{b: body}
	n, err := count(r)
	if err != nil {
		return err
	}
	for range n {
		mod, err := r.name()
		if err != nil {
			return err
		}
		name, err := r.name()
		if err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		m.importKinds = append(m.importKinds, kind)
		switch kind {
		case kindFunc:
			_, err = r.u32()
		case kindTable:
			if _, err = readValType(r); err == nil {
				_, err = readLimits(r, true)
			}
		case kindMemory:
			m.importedMemories++
			_, err = readLimits(r, false)
		case kindGlobal:
			var g global
			g, err = readGlobalType(r)
			m.importedGlobals++
			if err == nil && g.mutable && m.mutableImport == "" {
				m.mutableImport = mod + "." + name
			}
		case kindTag:
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			return fmt.Errorf("%w: import kind 0x%02x", ErrUnsupported, kind)
		}
		if err != nil {
			return err
		}
	}
	return trailing(r)
}

func (m *module) parseMemories(body []byte) error {
	r := &reader{b: body}
	n, err := count(r)
	if err != nil {
		return err
	}
	for range n {
		l, err := readLimits(r, false)
		if err != nil {
			return err
		}
		m.memories = append(m.memories, l)
	}
	return trailing(r)
}

func (m *module) parseGlobals(body []byte) error {
	r := &reader{b: body}
	n, err := count(r)
	if err != nil {
		return err
	}
	for range n {
		g, err := readGlobalType(r)
		if err != nil {
			return err
		}
		if g.init, err = skipConstExpr(r); err != nil {
			return err
		}
		m.globals = append(m.globals, g)
	}
	return trailing(r)
}

func (m *module) parseExports(body []byte) error {
	r := &reader{b: body}
	m.hasExports = true
	n, err := count(r)
	if err != nil {
		return err
	}
	for range n {
		var e export
		if e.name, err = r.name(); err != nil {
			return err
		}
		if e.kind, err = r.byte(); err != nil {
			return err
		}
		if e.index, err = r.u32(); err != nil {
			return err
		}
		m.exports = append(m.exports, e)
	}
	return trailing(r)
}

func (m *module) parseData(body []byte) error {
	r := &reader{b: body}
	n, err := count(r)
	if err != nil {
		return err
	}
	for range n {
		start := r.off
		flags, err := r.u32()
		if err != nil {
			return err
		}
		switch flags {
		case 0:
			_, err = skipConstExpr(r)
		case 1:
		case 2:
			if _, err = r.u32(); err == nil {
				_, err = skipConstExpr(r)
			}
		default:
			return r.errorf("data segment flags %d", flags)
		}
		if err != nil {
			return err
		}
		if _, err := r.vec(); err != nil {
			return err
		}
		m.data = append(m.data, dataSegment{passive: flags == 1, raw: body[start:r.off]})
	}
	return trailing(r)
}

func trailing(r *reader) error {
	if !r.done() {
		return r.errorf("%d unread bytes at the end of the section", len(r.b)-r.off)
	}
	return nil
}

// readValType reads a value type and returns its first byte. Reference
// types with an explicit heap type (0x63, 0x64) are followed by an s33.
func readValType(r *reader) (ValType, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch {
	case c >= 0x7b && c <= 0x7f: // i32 i64 f32 f64 v128
	case c >= 0x69 && c <= 0x74: // abbreviated reference types (funcref, externref, GC, exnref)
	case c == 0x63 || c == 0x64: // (ref null ht), (ref ht)
		if _, err := r.sleb(33); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("%w: value type 0x%02x", ErrUnsupported, c)
	}
	return ValType(c), nil
}

func readGlobalType(r *reader) (global, error) {
	start := r.off
	t, err := readValType(r)
	if err != nil {
		return global{}, err
	}
	mut, err := r.byte()
	if err != nil {
		return global{}, err
	}
	if mut > 1 {
		return global{}, fmt.Errorf("%w: global mutability flag 0x%02x (shared globals)", ErrUnsupported, mut)
	}
	return global{typ: t, typeRaw: r.b[start:r.off], mutable: mut == 1}, nil
}

// readLimits reads memory limits, or with table set, table limits.
// Memories that are shared, 64-bit or have a custom page size are refused,
// since the rewrite could not express them; 64-bit tables are read and
// passed through.
func readLimits(r *reader, table bool) (limits, error) {
	flags, err := r.byte()
	if err != nil {
		return limits{}, err
	}
	bits := uint(32)
	switch {
	case flags&0x02 != 0:
		return limits{}, fmt.Errorf("%w: shared memory or table (threads)", ErrUnsupported)
	case flags&0x04 != 0 && table:
		bits = 64
	case flags&0x04 != 0:
		return limits{}, fmt.Errorf("%w: 64-bit memory (memory64)", ErrUnsupported)
	}
	if flags&^0x05 != 0 {
		return limits{}, fmt.Errorf("%w: limits flags 0x%02x (custom page sizes?)", ErrUnsupported, flags)
	}
	l := limits{flags: flags}
	if l.min, err = r.uleb(bits); err != nil {
		return limits{}, err
	}
	if flags&0x01 != 0 {
		if l.max, err = r.uleb(bits); err != nil {
			return limits{}, err
		}
	}
	return l, nil
}
