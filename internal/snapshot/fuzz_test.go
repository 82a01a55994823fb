package snapshot

import (
	"errors"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/internal/fuzzseed"
)

// fuzzModules are the WAT seeds of the snapshot targets.
var fuzzModules = []string{reactorWAT, passiveWAT, `(module)`, `(module (memory 1 2) (global (mut i64) (i64.const 3)))`,
	`(module (import "env" "f" (func (param i32))) (memory (export "memory") 1) (data (i32.const 8) "hi")
	  (global $g (mut i32) (i32.const 0)) (func (export "_initialize") (global.set $g (i32.const 1))))`,
	`(module (memory 1) (data "passive") (func (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 1)) (data.drop 0)))`}

// FuzzInstrumentRewrite: arbitrary bytes never panic the decoder, and
// whatever Instrument accepts, Rewrite accepts with a matching state.
func FuzzInstrumentRewrite(f *testing.F) {
	for _, src := range fuzzModules {
		b, err := wat2wasmForFuzz(src)
		if err != nil {
			f.Fatal(err)
		}
		fuzzseed.Add(f, b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		instr, globals, err := Instrument(b)
		if err != nil {
			return
		}
		m, err := parseModule(b)
		if err != nil {
			t.Fatalf("Instrument accepted what parseModule refuses: %v", err)
		}
		if _, _, err := Instrument(instr); err == nil && (len(globals) > 0 || len(m.memories) > 0) {
			t.Fatal("an instrumented module instruments again without a name clash")
		}
		st := State{Globals: make([]Value, len(globals))}
		if len(m.memories) == 1 && m.memories[0].flags&1 != 0 && m.memories[0].max < m.memories[0].min {
			return // invalid limits; the engine rejects such modules
		}
		if len(m.memories) == 1 && m.memories[0].min <= 4 {
			st.Memory = make([]byte, m.memories[0].min*pageSize)
			if len(st.Memory) > 0 {
				st.Memory[len(st.Memory)-1] = 1
			}
		} else if len(m.memories) == 1 {
			return
		}
		out, err := Rewrite(b, globals, st)
		if err != nil {
			t.Fatalf("Rewrite: %v", err)
		}
		if _, err := parseModule(out); err != nil {
			t.Fatalf("Rewrite output does not parse: %v", err)
		}
	})
}

// FuzzDecoderAcceptsValidModules: the decoder calls a module malformed
// only if the engine does too. A module wasmtime validates is either
// decoded or refused as ErrUnsupported (errors.go promises that much),
// never ErrMalformed, which would turn a valid deploy into a failure.
func FuzzDecoderAcceptsValidModules(f *testing.F) {
	for _, src := range fuzzModules {
		b, err := wat2wasmForFuzz(src)
		if err != nil {
			f.Fatal(err)
		}
		fuzzseed.Add(f, b)
	}
	engine := testEngine()
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := parseModule(b)
		if err == nil || !errors.Is(err, ErrMalformed) {
			return
		}
		if wasmtime.ModuleValidate(engine, b) == nil {
			t.Fatalf("wasmtime validates a module the decoder calls malformed: %v", err)
		}
	})
}
