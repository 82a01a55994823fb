package runtime

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// decls is what a module declares: its imports, its exports with their
// function types, and the minimum sizes of its memories and tables. The
// deploy-time checks (check.go) run on it, before anything is compiled:
// readDecls reads it from the binary in one pass over the section
// headers, skipping function bodies and data, so a module refused for
// its imports costs microseconds, not a compilation (a 16.7 MB module
// took 38 s to be refused when the check ran on the compiled module).
// declsOf builds the same from a compiled module, for modules loaded from
// the artifact cache.
type decls struct {
	imports []extern
	exports []extern
	// memories and tables hold every memory and table, imported first,
	// in index order.
	memories []memoryDecl
	tables   []uint64 // minimum elements
}

// extern is one import or export.
type extern struct {
	module, name string // module is empty for exports
	kind         byte   // externFunc, externTable, externMemory, externGlobal, externTag
	// fn is the function type of a function, if it is a plain one
	// (func params results); a GC type (struct, array) leaves it nil.
	fn *funcType
}

type funcType struct{ params, results []string } // "i32", "i64", "f32", "f64", "v128", "funcref", "externref", "ref"

type memoryDecl struct {
	min      uint64 // pages
	pageSize uint64 // bytes, 65536 unless the custom-page-sizes proposal says otherwise
}

func (m memoryDecl) minBytes() uint64 {
	if m.pageSize != 0 && m.min > ^uint64(0)/m.pageSize {
		return ^uint64(0)
	}
	return m.min * m.pageSize
}

// External kinds of the binary format.
const (
	externFunc   = 0
	externTable  = 1
	externMemory = 2
	externGlobal = 3
	externTag    = 4
)

func kindName(k byte) string {
	switch k {
	case externFunc:
		return "function"
	case externTable:
		return "table"
	case externMemory:
		return "memory"
	case externGlobal:
		return "global"
	case externTag:
		return "tag"
	}
	return "unknown"
}

// errDecls reports a module readDecls cannot read: malformed, or using an
// encoding it does not know. The caller then lets the engine's validator
// explain, and falls back to checking the compiled module.
var errDecls = errors.New("cannot read the module's declarations")

// readDecls reads the type, import, function, table, memory and export
// sections of a core module. It never panics and never allocates more
// than the input's size bounds; it checks only what it reads, not that
// the module is valid (the engine's validator does that next).
func readDecls(wasm []byte) (*decls, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, fmt.Errorf("%w: not a core module header", errDecls)
	}
	r := &declReader{b: wasm, off: 8}
	d := &decls{}
	var types []*funcType
	var funcTypes []uint32 // type index of every function, imported first
	for !r.done() {
		id := r.byte()
		body := r.vec()
		if r.err != nil {
			return nil, r.err
		}
		s := &declReader{b: body}
		switch id {
		case 1:
			types = readTypes(s)
		case 2:
			n := s.count()
			for i := 0; i < n && s.err == nil; i++ {
				imp := extern{module: s.name(), name: s.name(), kind: s.byte()}
				switch imp.kind {
				case externFunc:
					ti := s.u32()
					funcTypes = append(funcTypes, ti)
					imp.fn = typeAt(types, ti)
				case externTable:
					s.valType()
					d.tables = append(d.tables, s.limits().min)
				case externMemory:
					d.memories = append(d.memories, s.limits())
				case externGlobal:
					s.valType()
					s.byte()
				case externTag:
					s.byte()
					s.u32()
				default:
					s.fail("import kind 0x%02x", imp.kind)
				}
				d.imports = append(d.imports, imp)
			}
		case 3:
			n := s.count()
			for i := 0; i < n && s.err == nil; i++ {
				funcTypes = append(funcTypes, s.u32())
			}
		case 4:
			n := s.count()
			for i := 0; i < n && s.err == nil; i++ {
				if s.peek() == 0x40 { // a table with an initializer expression
					s.fail("table initializer expressions")
					break
				}
				s.valType()
				d.tables = append(d.tables, s.limits().min)
			}
		case 5:
			n := s.count()
			for i := 0; i < n && s.err == nil; i++ {
				d.memories = append(d.memories, s.limits())
			}
		case 7:
			n := s.count()
			for i := 0; i < n && s.err == nil; i++ {
				ex := extern{name: s.name(), kind: s.byte()}
				idx := s.u32()
				if ex.kind == externFunc && uint64(idx) < uint64(len(funcTypes)) {
					ex.fn = typeAt(types, funcTypes[idx])
				}
				d.exports = append(d.exports, ex)
			}
		default:
			continue // custom sections, code, data, ...: not read
		}
		if s.err == nil && !s.done() {
			s.fail("%d unread bytes at the end of section %d", len(s.b)-s.off, id)
		}
		if s.err != nil {
			return nil, s.err
		}
	}
	return d, nil
}

func typeAt(types []*funcType, i uint32) *funcType {
	if uint64(i) < uint64(len(types)) {
		return types[i]
	}
	return nil
}

// readTypes reads the type section: one entry per type index, nil for
// the types that are not function types (GC structs and arrays).
func readTypes(s *declReader) []*funcType {
	var types []*funcType
	n := s.count()
	for i := 0; i < n && s.err == nil; i++ {
		if s.peek() == 0x4e { // rec group
			s.byte()
			m := s.count()
			for j := 0; j < m && s.err == nil; j++ {
				types = append(types, readSubType(s))
			}
			continue
		}
		types = append(types, readSubType(s))
	}
	return types
}

func readSubType(s *declReader) *funcType {
	if c := s.peek(); c == 0x50 || c == 0x4f { // sub, sub final
		s.byte()
		m := s.count()
		for j := 0; j < m && s.err == nil; j++ {
			s.u32()
		}
	}
	switch c := s.byte(); c {
	case 0x60:
		ft := &funcType{}
		m := s.count()
		for j := 0; j < m && s.err == nil; j++ {
			ft.params = append(ft.params, s.valType())
		}
		m = s.count()
		for j := 0; j < m && s.err == nil; j++ {
			ft.results = append(ft.results, s.valType())
		}
		return ft
	case 0x5f: // struct
		m := s.count()
		for j := 0; j < m && s.err == nil; j++ {
			s.fieldType()
		}
	case 0x5e: // array
		s.fieldType()
	default:
		s.fail("type form 0x%02x", c)
	}
	return nil
}

// declReader decodes front to back; the first error sticks and every
// later read returns zero values, so callers check once.
type declReader struct {
	b   []byte
	off int
	err error
}

func (r *declReader) done() bool { return r.off >= len(r.b) || r.err != nil }

func (r *declReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s (at byte %d)", errDecls, fmt.Sprintf(format, args...), r.off)
	}
}

func (r *declReader) peek() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	return r.b[r.off]
}

func (r *declReader) byte() byte {
	c := r.peek()
	if r.err == nil {
		r.off++
	}
	return c
}

func (r *declReader) uleb(bits uint) uint64 {
	var v uint64
	for shift := uint(0); r.err == nil; shift += 7 {
		c := r.byte()
		if shift >= bits || (bits-shift < 7 && uint64(c&0x7f)>>(bits-shift) != 0) {
			r.fail("LEB128 overflows %d bits", bits)
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	return 0
}

func (r *declReader) u32() uint32 { return uint32(r.uleb(32)) }

// count reads a vector length; each element takes at least a byte, so a
// count beyond the bytes left is malformed (and bounds allocations).
func (r *declReader) count() int {
	n := r.u32()
	if r.err == nil && uint64(n) > uint64(len(r.b)-r.off) {
		r.fail("count %d exceeds the bytes left", n)
		return 0
	}
	return int(n)
}

func (r *declReader) vec() []byte {
	n := r.u32()
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail("length %d overruns its container", n)
		return nil
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *declReader) name() string {
	b := r.vec()
	if r.err == nil && !utf8.Valid(b) {
		r.fail("name is not UTF-8")
	}
	return string(b)
}

// valType reads a value type and names it.
func (r *declReader) valType() string {
	switch c := r.byte(); {
	case r.err != nil:
		return ""
	case c == 0x7f:
		return "i32"
	case c == 0x7e:
		return "i64"
	case c == 0x7d:
		return "f32"
	case c == 0x7c:
		return "f64"
	case c == 0x7b:
		return "v128"
	case c == 0x70:
		return "funcref"
	case c == 0x6f:
		return "externref"
	case c >= 0x69 && c <= 0x74: // other abbreviated reference types
		return "ref"
	case c == 0x63 || c == 0x64: // (ref null ht), (ref ht): a heap type, s33
		for i := 0; r.err == nil; i++ {
			if i == 5 {
				r.fail("heap type longer than 33 bits")
				break
			}
			if r.byte()&0x80 == 0 {
				break
			}
		}
		return "ref"
	default:
		r.fail("value type 0x%02x", c)
		return ""
	}
}

func (r *declReader) fieldType() {
	if c := r.peek(); c == 0x78 || c == 0x77 { // i8, i16
		r.byte()
	} else {
		r.valType()
	}
	r.byte() // mutability
}

// limits reads memory or table limits: flags (bit 0: a maximum follows;
// bit 1: shared; bit 2: 64-bit; bit 3: a custom page size follows), the
// minimum and the optional maximum.
func (r *declReader) limits() memoryDecl {
	flags := r.byte()
	if flags&^0x0f != 0 {
		r.fail("limits flags 0x%02x", flags)
		return memoryDecl{}
	}
	bits := uint(32)
	if flags&0x04 != 0 {
		bits = 64
	}
	m := memoryDecl{min: r.uleb(bits), pageSize: 65536}
	if flags&0x01 != 0 {
		r.uleb(bits)
	}
	if flags&0x08 != 0 {
		if p := r.u32(); p < 64 {
			m.pageSize = 1 << p
		} else {
			r.fail("page size 2^%d", p)
		}
	}
	return m
}
