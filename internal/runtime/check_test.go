package runtime

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// checkFixtures are modules whose declarations cover what the checks
// read: every entry, imports of each kind, wrong and odd types, GC types,
// multiple tables, custom sections.
var checkFixtures = map[string]string{
	"hello": helloWAT,
	"cgi": `(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
		(memory (export "memory") 1) (func (export "_start")))`,
	"event": `(module (memory (export "memory") 1) (func (export "wedge_event") (param i32) (result i32) (i32.const 0)))`,
	"reactor": `(module (memory (export "memory") 1) (func (export "_initialize"))
		(func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`,
	"bad init": `(module (memory (export "memory") 1) (func (export "_initialize") (param i32))
		(func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`,
	"handle wrong type":     `(module (memory (export "memory") 1) (func (export "wedge_handle") (param i64 i32) (result i32) (i32.const 0)))`,
	"handle not a function": `(module (memory (export "memory") 1) (global (export "wedge_handle") i32 (i32.const 0)))`,
	"memory not a memory": `(module (global (export "memory") i32 (i32.const 0))
		(func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`,
	"no entry": `(module (memory (export "memory") 1) (func (export "other")))`,
	"kinds": `(module (import "wedge_v1" "log" (memory 1)) (import "env" "t" (table 1 funcref))
		(import "wedge_v1" "response_write" (global i32)) (import "wedge_v1" "kv_get" (func (param f32 f64 v128) (result externref)))
		(memory (export "memory") 1) (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`,
	"wrong arity": `(module (import "wedge_v1" "response_write" (func (param i32) (result i32)))
		(memory (export "memory") 1) (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`,
	"gc types": `(module (type $s (struct (field i32) (field (mut i8)))) (type $a (array (mut i16)))
		(rec (type $f (func (param i32 i32) (result i32))) (type $g (sub (struct))))
		(memory (export "memory") 1) (func (export "wedge_handle") (type $f) (i32.const 0)))`,
	"two tables": `(module (table 1 funcref) (table 2 externref) (memory (export "memory") 1)
		(func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`,
	"named": `(module $m (memory (export "memory") 1) (func $h (export "wedge_handle") (param $a i32) (param $b i32) (result i32) (i32.const 0)))`,
}

// TestDeclsAgreeWithTheEngine checks readDecls, which reads a module's
// bytes, against declsOf, which asks wasmtime about the compiled module:
// the checks reach the same verdict and description from both.
func TestDeclsAgreeWithTheEngine(t *testing.T) {
	e, err := NewEngine(Config{NoPooling: true}) // the pool refuses two tables at compile time
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for name, src := range checkFixtures {
		t.Run(name, func(t *testing.T) {
			wasm := wat(t, src)
			d, err := readDecls(wasm)
			if err != nil {
				t.Fatalf("readDecls: %v", err)
			}
			mod, err := compileUnchecked(e, wasm)
			if err != nil {
				// GC types are read, but this engine does not enable
				// them: the validator refuses the module after the checks.
				if _, cerr := e.Compile(wasm); name != "gc types" || !errors.Is(cerr, ErrInvalidModule) {
					t.Fatalf("wasmtime: %v; Compile: %v", err, cerr)
				}
				return
			}
			defer mod.Close()
			fromBytes, errBytes := e.check(d)
			fromEngine, errEngine := e.check(declsOf(mod))
			if (errBytes == nil) != (errEngine == nil) || errBytes != nil && errBytes.Error() != errEngine.Error() {
				// The engine cannot show v128 and GC types; only the
				// module that uses them may differ, and only in how the
				// type is written.
				if name != "kinds" || !errors.Is(errBytes, ErrUnknownImports) || !errors.Is(errEngine, ErrUnknownImports) {
					t.Fatalf("from the bytes: %v\nfrom the engine: %v", errBytes, errEngine)
				}
			}
			if !reflect.DeepEqual(fromBytes, fromEngine) {
				t.Fatalf("from the bytes: %+v\nfrom the engine: %+v", fromBytes, fromEngine)
			}
		})
	}
}

// TestCheckMessages pins what the checks say about each fixture.
func TestCheckMessages(t *testing.T) {
	e := newEngine(t)
	want := map[string]string{
		"bad init":              "no entry point: _initialize must be a function with no parameters and no results",
		"handle wrong type":     "no entry point: wedge_handle must have type (func (param i32 i32) (result i32))",
		"handle not a function": "no entry point: wedge_handle must have type (func (param i32 i32) (result i32))",
		"memory not a memory":   `no entry point: the native entry needs an exported memory named "memory"`,
		"no entry":              `no entry point: the module exports neither "wedge_handle" (native entry) nor "_start" (WASI command)`,
		"kinds": "unknown imports: wedge_v1.log (must be a function, not a memory), env.t (unknown import module), " +
			"wedge_v1.response_write (must be a function, not a global), " +
			"wedge_v1.kv_get (type (f32 f64 v128) -> (externref), host provides (i32 i32 i32 i32 i32 i32 i32) -> (i32))",
		"wrong arity": "unknown imports: wedge_v1.response_write (type (i32) -> (i32), host provides (i32 i32) -> (i32))",
		"two tables":  "module exceeds the function's limits: the module has 2 tables; a function may have one",
	}
	for name, src := range checkFixtures {
		_, err := e.Inspect(wat(t, src))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if name == "gc types" && errors.Is(err, ErrInvalidModule) {
			continue
		}
		if got != want[name] {
			t.Errorf("%s: got %q\nwant %q", name, got, want[name])
		}
	}
}

// bigModule builds, byte by byte, a module with one import and a function
// body of about size bytes, which takes the compiler a long while.
func bigModule(importModule, importName string, size int) []byte {
	uleb := func(b []byte, v uint64) []byte {
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v != 0 {
				b = append(b, c|0x80)
				continue
			}
			return append(b, c)
		}
	}
	section := func(out []byte, id byte, payload []byte) []byte {
		out = append(out, id)
		out = uleb(out, uint64(len(payload)))
		return append(out, payload...)
	}
	name := func(b []byte, s string) []byte { return append(uleb(b, uint64(len(s))), s...) }
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = section(out, 1, []byte{2, 0x60, 0, 0, 0x60, 2, 0x7f, 0x7f, 1, 0x7f}) // () -> (); (i32 i32) -> (i32)
	imp := []byte{1}
	imp = name(imp, importModule)
	imp = name(imp, importName)
	out = section(out, 2, append(imp, 0, 0)) // a function of type 0
	out = section(out, 3, []byte{1, 1})      // one function of type 1
	out = section(out, 5, []byte{1, 0, 1})   // memory 1
	exp := []byte{2}
	exp = append(name(exp, "memory"), 2, 0)
	exp = append(name(exp, "wedge_handle"), 0, 1)
	out = section(out, 7, exp)
	body := []byte{0}                                                      // no locals
	body = append(body, bytes.Repeat([]byte{0x41, 0x00, 0x1a}, size/3)...) // i32.const 0; drop
	body = append(body, 0x41, 0x00, 0x0b)                                  // i32.const 0; end
	code := uleb([]byte{1}, uint64(len(body)))
	return section(out, 10, append(code, body...))
}

// TestRefusedBeforeCompiling: a module with an unknown import, or no entry
// point, or a memory minimum above the function's limit, is refused from
// its declarations; the compiler never runs (the engine's compile count
// stays at zero), however large the module.
func TestRefusedBeforeCompiling(t *testing.T) {
	e := newEngine(t)
	big := bigModule("env", "sneaky", 4<<20)
	_, err := e.Compile(big)
	if !errors.Is(err, ErrUnknownImports) || !strings.Contains(err.Error(), "env.sneaky (unknown import module)") {
		t.Fatalf("Compile(%d bytes with an unknown import) = %v", len(big), err)
	}
	for _, src := range []string{checkFixtures["no entry"], checkFixtures["wrong arity"], `(module (memory (export "memory") 4800)
		(func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`} {
		if m, err := e.CompileFor(wat(t, src), Limits{}); err == nil {
			m.Release()
			t.Fatalf("%s compiled", src)
		}
	}
	if n := e.Stats().Compiles; n != 0 {
		t.Fatalf("the compiler ran %d times for modules the checks refuse", n)
	}
}

// TestMemoryMinimumAboveTheLimit: a module whose memory minimum is above
// the function's memory limit could never be instantiated; it is refused
// at deploy with both numbers, including a minimum of 65,536 pages (4 GiB)
// that the pooling allocator used to refuse with a message of its own.
func TestMemoryMinimumAboveTheLimit(t *testing.T) {
	e := newEngine(t)
	mod := func(pages string) []byte {
		return wat(t, `(module (memory (export "memory") `+pages+`)
			(func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`)
	}
	cases := []struct {
		pages string
		lim   Limits
		want  string
	}{
		{"4800", Limits{}, "module exceeds the function's limits: memory minimum 300 MiB (4800 pages) exceeds the function's limit of 128 MiB"},
		{"65536", Limits{}, "module exceeds the function's limits: memory minimum 4096 MiB (65536 pages) exceeds the function's limit of 128 MiB"},
		{"65536", Limits{MemoryBytes: MaxMemoryLimit}, "memory minimum 4096 MiB (65536 pages) exceeds the function's limit of 1024 MiB"},
		{"17", Limits{MemoryBytes: 1 << 20}, "memory minimum 1.06 MiB (17 pages) exceeds the function's limit of 1 MiB"},
		{"2049", Limits{}, "memory minimum 128.06 MiB (2049 pages) exceeds the function's limit of 128 MiB"},
		{"2048", Limits{}, ""}, // exactly the limit
		{"16", Limits{MemoryBytes: 1 << 20}, ""},
	}
	for _, tc := range cases {
		m, err := e.CompileFor(mod(tc.pages), tc.lim)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s pages under %d bytes: %v", tc.pages, tc.lim.MemoryBytes, err)
				continue
			}
			c, err := invoke(t, m, NewEnv("fits", nil, tc.lim), nil, nil)
			if err != nil || c.Status != 200 {
				t.Errorf("%s pages: the module that fits does not run: %v", tc.pages, err)
			}
			m.Release()
			continue
		}
		if err == nil {
			m.Release()
			t.Errorf("%s pages under %d bytes: compiled", tc.pages, tc.lim.MemoryBytes)
			continue
		}
		if !errors.Is(err, ErrOverLimits) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s pages: %v\nwant %q", tc.pages, err, tc.want)
		}
	}
	// Compile alone allows the largest limit.
	if _, err := e.Compile(mod("65536")); err == nil || !strings.Contains(err.Error(), "limit of 1024 MiB") {
		t.Errorf("Compile(65536 pages) = %v", err)
	}
}

func compileUnchecked(e *Engine, wasm []byte) (*wasmtime.Module, error) {
	return wasmtime.NewModule(e.engine, wasm)
}

func watBytes(src string) ([]byte, error) { return wasmtime.Wat2Wasm(src) }

// FuzzReadDecls: the reader of untrusted module bytes never panics, and
// its errors wrap errDecls (so Compile falls back to the validator).
func FuzzReadDecls(f *testing.F) {
	for _, src := range checkFixtures {
		b, err := watBytes(src)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add(bigModule("env", "x", 30))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x01\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := readDecls(b)
		if err != nil {
			if !errors.Is(err, errDecls) {
				t.Fatalf("error %v does not wrap errDecls", err)
			}
			return
		}
		for _, m := range d.memories {
			_ = m.minBytes()
		}
	})
}
