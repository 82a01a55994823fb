package snapshot

import (
	"testing"
)

// FuzzInstrumentRewrite: arbitrary bytes never panic the decoder, and
// whatever Instrument accepts, Rewrite accepts with a matching state.
func FuzzInstrumentRewrite(f *testing.F) {
	for _, src := range []string{reactorWAT, passiveWAT, `(module)`, `(module (memory 1 2) (global (mut i64) (i64.const 3)))`} {
		b, err := wat2wasmForFuzz(src)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
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
