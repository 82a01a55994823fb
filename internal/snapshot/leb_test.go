package snapshot

import (
	"errors"
	"math"
	"testing"
)

func TestLEBRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 127, 128, 255, 16383, 16384, 1<<32 - 1, 1 << 32, math.MaxUint64} {
		b := appendU64(nil, v)
		r := &reader{b: b}
		got, err := r.u64()
		if err != nil || got != v || !r.done() {
			t.Errorf("u64 %d: got %d, %v (encoded % x)", v, got, err, b)
		}
		if v <= math.MaxUint32 {
			r = &reader{b: b}
			if got, err := r.u32(); err != nil || uint64(got) != v {
				t.Errorf("u32 %d: got %d, %v", v, got, err)
			}
		}
	}
	for _, v := range []int64{0, 1, -1, 63, 64, -64, -65, 8191, -8192, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		b := appendS64(nil, v)
		r := &reader{b: b}
		got, err := r.sleb(64)
		if err != nil || got != v || !r.done() {
			t.Errorf("s64 %d: got %d, %v (encoded % x)", v, got, err, b)
		}
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			r = &reader{b: b}
			if got, err := r.sleb(32); err != nil || got != v {
				t.Errorf("s32 %d: got %d, %v", v, got, err)
			}
		}
	}
}

func TestLEBRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		read func(*reader) error
	}{
		{"u32 too long", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, func(r *reader) error { _, err := r.u32(); return err }},
		{"u32 overflow", []byte{0xff, 0xff, 0xff, 0xff, 0x1f}, func(r *reader) error { _, err := r.u32(); return err }},
		{"u32 truncated", []byte{0x80}, func(r *reader) error { _, err := r.u32(); return err }},
		{"s32 too long", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, func(r *reader) error { _, err := r.sleb(32); return err }},
		{"u64 too long", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, func(r *reader) error { _, err := r.u64(); return err }},
		{"vec overruns", []byte{0x05, 1, 2}, func(r *reader) error { _, err := r.vec(); return err }},
	} {
		if err := c.read(&reader{b: c.b}); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
	// The longest valid u32: five bytes, top bits clear.
	r := &reader{b: []byte{0xff, 0xff, 0xff, 0xff, 0x0f}}
	if v, err := r.u32(); err != nil || v != math.MaxUint32 {
		t.Errorf("max u32: %d, %v", v, err)
	}
}

func TestAppendConst(t *testing.T) {
	for _, c := range []struct {
		t    ValType
		v    Value
		want []byte
	}{
		{I32, ValueI32(-1), []byte{0x41, 0x7f, 0x0b}},
		{I32, ValueI32(64), []byte{0x41, 0xc0, 0x00, 0x0b}},
		{I64, ValueI64(-129), []byte{0x42, 0xff, 0x7e, 0x0b}},
		{F32, ValueF32(1), []byte{0x43, 0x00, 0x00, 0x80, 0x3f, 0x0b}},
		{F64, ValueF64(-2), []byte{0x44, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0x0b}},
	} {
		got := appendConst(nil, c.t, c.v)
		if string(got) != string(c.want) {
			t.Errorf("%s %#x: % x, want % x", c.t, uint64(c.v), got, c.want)
		}
		r := &reader{b: got}
		if expr, err := skipConstExpr(r); err != nil || len(expr) != len(got) {
			t.Errorf("%s: skipConstExpr: %v", c.t, err)
		}
	}
	// Upper bits of a 32-bit Value are ignored.
	if got := appendConst(nil, I32, Value(0xffffffff_00000005)); string(got) != "\x41\x05\x0b" {
		t.Errorf("i32 with upper bits: % x", got)
	}
}
