package snapshot

import (
	"fmt"
	"math"
)

// ValType is a WebAssembly value type, by its binary encoding.
type ValType byte

// The value types a snapshotted global can have.
const (
	I32 ValType = 0x7f
	I64 ValType = 0x7e
	F32 ValType = 0x7d
	F64 ValType = 0x7c
)

// v128 is recognised only to be refused for mutable globals.
const v128 ValType = 0x7b

func (t ValType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case v128:
		return "v128"
	}
	return fmt.Sprintf("valtype(0x%02x)", byte(t))
}

// numeric reports whether values of t fit in a Value.
func (t ValType) numeric() bool { return t == I32 || t == I64 || t == F32 || t == F64 }

// Value is the raw bit pattern of a global's value: an i32 or f32 in the
// low 32 bits (upper bits ignored), an i64 or f64 in all 64. Floats are
// carried as bits so that NaN payloads survive the round trip.
type Value uint64

// ValueI32 and the other constructors build a Value from a typed value.
func ValueI32(v int32) Value   { return Value(uint32(v)) }
func ValueI64(v int64) Value   { return Value(uint64(v)) }
func ValueF32(v float32) Value { return Value(math.Float32bits(v)) }
func ValueF64(v float64) Value { return Value(math.Float64bits(v)) }

// I32 and the other accessors read a Value as the given type.
func (v Value) I32() int32   { return int32(uint32(v)) }
func (v Value) I64() int64   { return int64(v) }
func (v Value) F32() float32 { return math.Float32frombits(uint32(v)) }
func (v Value) F64() float64 { return math.Float64frombits(uint64(v)) }

// GlobalInfo describes one global that Instrument exported for capture.
type GlobalInfo struct {
	Index      uint32  // index in the module's global index space (imports first)
	Type       ValType // I32, I64, F32 or F64
	Mutable    bool
	ExportName string // the export under which the instrumented module exposes it
}

// State is what a Runner captures after running the initializer.
type State struct {
	// Globals holds one value per GlobalInfo, in the same order.
	Globals []Value
	// Memory is a copy of the whole linear memory: its length, a multiple
	// of 64 KiB, becomes the rewritten memory's minimum size. Nil when the
	// module defines no memory.
	Memory []byte
}
