package snapshot

import (
	"encoding/binary"
	"fmt"
)

// Opcodes that may appear in constant expressions.
const (
	opEnd       = 0x0b
	opGlobalGet = 0x23
	opI32Const  = 0x41
	opI64Const  = 0x42
	opF32Const  = 0x43
	opF64Const  = 0x44
	opRefNull   = 0xd0
	opRefFunc   = 0xd2
	opSIMD      = 0xfd
	simdV128Con = 12
)

// skipConstExpr reads a constant expression up to and including its end
// opcode and returns its bytes. It knows the core instructions, the
// extended-constant arithmetic and v128.const; garbage-collection
// constructors are refused as unsupported rather than guessed at.
func skipConstExpr(r *reader) ([]byte, error) {
	start := r.off
	for {
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch op {
		case opEnd:
			return r.b[start:r.off], nil
		case opI32Const:
			_, err = r.sleb(32)
		case opI64Const:
			_, err = r.sleb(64)
		case opF32Const:
			_, err = r.bytes(4)
		case opF64Const:
			_, err = r.bytes(8)
		case opGlobalGet, opRefFunc:
			_, err = r.u32()
		case opRefNull:
			_, err = r.sleb(33)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // i32/i64 add, sub, mul
		case opSIMD:
			var sub uint32
			if sub, err = r.u32(); err == nil {
				if sub != simdV128Con {
					return nil, fmt.Errorf("%w: SIMD opcode %d in a constant expression", ErrUnsupported, sub)
				}
				_, err = r.bytes(16)
			}
		default:
			return nil, fmt.Errorf("%w: opcode 0x%02x in a constant expression", ErrUnsupported, op)
		}
		if err != nil {
			return nil, err
		}
	}
}

// appendConst appends the constant expression "t.const v; end".
func appendConst(b []byte, t ValType, v Value) []byte {
	switch t {
	case I32:
		b = appendS64(append(b, opI32Const), int64(v.I32()))
	case I64:
		b = appendS64(append(b, opI64Const), v.I64())
	case F32:
		b = binary.LittleEndian.AppendUint32(append(b, opF32Const), uint32(v))
	case F64:
		b = binary.LittleEndian.AppendUint64(append(b, opF64Const), uint64(v))
	default:
		panic("snapshot: appendConst of " + t.String())
	}
	return append(b, opEnd)
}
