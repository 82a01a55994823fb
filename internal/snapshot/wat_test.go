package snapshot

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// reactorWAT sets globals of every numeric type, grows memory from 1 to 4
// pages and writes patterns with small and large zero gaps across them,
// including over an original data segment and at the last byte.
const reactorWAT = `(module
  (memory (export "memory") 1 100)
  (global $gi (mut i32) (i32.const 1))
  (global $gl (mut i64) (i64.const 2))
  (global $gf (mut f32) (f32.const 3.5))
  (global $gd (mut f64) (f64.const 4.25))
  (global $gnan (mut f32) (f32.const 0))
  (global $k i32 (i32.const 777))
  (global $kd f64 (f64.const 2.5))
  (global $untouched (mut i64) (i64.const -9))
  (data (i32.const 16) "original data")
  (data (i32.const 40000) "second segment")
  (func $fill (param $from i32) (param $to i32) (param $step i32) (param $seed i32)
    (local $a i32)
    (local.set $a (local.get $from))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $to)))
        (i32.store8 (local.get $a)
          (i32.or (i32.const 1) (i32.xor (local.get $seed) (local.get $a))))
        (local.set $a (i32.add (local.get $a) (local.get $step)))
        (br $next))))
  (func (export "_initialize")
    (global.set $gi (i32.const -123456))
    (global.set $gl (i64.const 0x123456789abcdef0))
    (global.set $gf (f32.const -1.5))
    (global.set $gd (f64.const 6.02e23))
    (global.set $gnan (f32.reinterpret_i32 (i32.const 0x7fa01234)))
    (drop (memory.grow (i32.const 3)))
    ;; zero part of the first data segment: the rewrite must not restore it
    (i32.store (i32.const 16) (i32.const 0))
    ;; dense bytes, gaps of 3 (merged), gaps of 100 (split), across pages
    (call $fill (i32.const 1000) (i32.const 2000) (i32.const 1) (i32.const 7))
    (call $fill (i32.const 3000) (i32.const 4000) (i32.const 4) (i32.const 9))
    (call $fill (i32.const 60000) (i32.const 70000) (i32.const 101) (i32.const 3))
    (call $fill (i32.const 140000) (i32.const 150000) (i32.const 29) (i32.const 11))
    (call $fill (i32.const 65530) (i32.const 65542) (i32.const 1) (i32.const 5))
    (i32.store8 (i32.const 262143) (i32.const 0xff)))
  (func (export "get_i32") (result i32) (global.get $gi))
  (func (export "get_i64") (result i64) (global.get $gl))
  (func (export "get_f32") (result f32) (global.get $gf))
  (func (export "get_f64") (result f64) (global.get $gd))
  (func (export "get_nan_bits") (result i32) (i32.reinterpret_f32 (global.get $gnan)))
  (func (export "get_k") (result i32) (global.get $k))
  (func (export "get_kd") (result f64) (global.get $kd))
  (func (export "get_untouched") (result i64) (global.get $untouched))
  (func (export "pages") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "checksum") (result i64)
    (local $a i32) (local $h i64) (local $n i32)
    (local.set $n (i32.mul (memory.size) (i32.const 65536)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $n)))
        (local.set $h (i64.add (i64.mul (local.get $h) (i64.const 1099511628211))
                               (i64.extend_i32_u (i32.load8_u (local.get $a)))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $next)))
    (local.get $h)))`

func TestReactorGlobalsAndMemory(t *testing.T) {
	orig := wat(t, reactorWAT)
	out, stats := snapshotOf(t, orig)

	l := newLinker(t, clock{})
	want := instantiate(t, l, compile(t, orig), true)
	got := instantiate(t, l, compile(t, out), false)

	if got.hasExport(InitializeExport) {
		t.Error("the snapshot still exports _initialize")
	}
	for _, fn := range []string{"get_i32", "get_i64", "get_f32", "get_f64", "get_nan_bits", "get_k", "get_kd", "get_untouched", "pages", "checksum"} {
		w, g := want.call(fn), got.call(fn)
		if w != g {
			t.Errorf("%s: snapshot %v, original after _initialize %v", fn, g, w)
		}
	}
	if v := got.call("get_i32"); v != int32(-123456) {
		t.Errorf("get_i32 = %v", v)
	}
	if v := got.call("get_nan_bits"); v != int32(0x7fa01234) {
		t.Errorf("NaN payload not preserved: %#x", v)
	}
	if v := got.call("get_k"); v != int32(777) {
		t.Errorf("immutable global = %v", v)
	}
	if v := got.call("pages"); v != int32(4) {
		t.Errorf("snapshot starts with %v pages, want 4", v)
	}
	// The maximum (100 pages) is kept.
	if v := got.call("grow", int32(96)); v != int32(4) {
		t.Errorf("grow(96) = %v", v)
	}
	if v := got.call("grow", int32(1)); v != int32(-1) {
		t.Errorf("grow past the maximum = %v, want -1", v)
	}

	// Runs 29 bytes apart merge into one segment; runs 101 bytes apart
	// do not (about 100 segments).
	if stats.MemoryBytes != 4*pageSize || stats.Segments < 100 || stats.Segments > 110 {
		t.Errorf("stats %+v", stats)
	}
	if stats.SegmentBytes < stats.NonZeroBytes {
		t.Errorf("segments hold %d bytes, fewer than the %d non-zero", stats.SegmentBytes, stats.NonZeroBytes)
	}
	t.Logf("stats %+v", stats)
}

// TestPreservesOtherSections: everything but the rewritten sections is
// copied byte for byte and in order, custom sections included.
func TestPreservesOtherSections(t *testing.T) {
	orig := wat(t, reactorWAT)
	out, _ := snapshotOf(t, orig)
	a, err := parseModule(orig)
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseModule(out)
	if err != nil {
		t.Fatal(err)
	}
	changed := map[byte]bool{secGlobal: true, secExport: true, secMemory: true, secData: true, secDataCount: true, secStart: true}
	var ka, kb [][]byte
	for _, s := range a.sections {
		if !changed[s.id] {
			ka = append(ka, s.raw)
		}
	}
	for _, s := range b.sections {
		if !changed[s.id] {
			kb = append(kb, s.raw)
		}
	}
	if len(ka) != len(kb) {
		t.Fatalf("%d unchanged sections in, %d out", len(ka), len(kb))
	}
	for i := range ka {
		if !bytes.Equal(ka[i], kb[i]) {
			t.Errorf("section %d (id %d) differs", i, ka[i][0])
		}
	}
	if last := b.sections[len(b.sections)-1]; last.id != secCustom || !bytes.Contains(last.body[:5], []byte("name")) {
		t.Errorf("the name section is no longer last")
	}
	// Immutable globals keep their exact initializers; mutable ones are
	// constants.
	for i, g := range b.globals {
		if !g.mutable && !bytes.Equal(g.init, a.globals[i].init) {
			t.Errorf("immutable global %d initializer changed", i)
		}
	}
}

const passiveWAT = `(module
  (memory (export "memory") 1)
  (data $a (i32.const 0) "AAAA")
  (data $p "passive-bytes")
  (data $b (i32.const 100) "BBBB")
  (data $q "second")
  (global $ready (mut i32) (i32.const 0))
  (func (export "_initialize")
    (memory.init $q (i32.const 200) (i32.const 0) (i32.const 6))
    (i32.store8 (i32.const 101) (i32.const 0x7a))
    (global.set $ready (i32.const 1)))
  (func (export "ready") (result i32) (global.get $ready))
  (func (export "load_p") (param $dst i32) (result i64)
    (memory.init $p (local.get $dst) (i32.const 0) (i32.const 13))
    (i64.load (i32.add (local.get $dst) (i32.const 5))))
  (func (export "load_q") (result i32)
    (memory.init $q (i32.const 300) (i32.const 2) (i32.const 4))
    (i32.load (i32.const 300)))
  (func (export "init_active") (param $n i32)
    (memory.init $a (i32.const 500) (i32.const 0) (local.get $n)))
  (func (export "drop_p") (data.drop $p))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0))))`

func TestPassiveSegmentsKeepIndices(t *testing.T) {
	orig := wat(t, passiveWAT)
	out, stats := snapshotOf(t, orig)

	m, err := parseModule(out)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := parseModule(orig)
	if !m.dataCount || len(m.data) != 4+stats.Segments {
		t.Fatalf("data count %v, %d segments (%d from the snapshot)", m.dataCount, len(m.data), stats.Segments)
	}
	for _, i := range []int{1, 3} {
		if !bytes.Equal(m.data[i].raw, o.data[i].raw) {
			t.Errorf("passive segment %d changed", i)
		}
	}

	l := newLinker(t, clock{})
	for _, c := range []struct {
		name string
		in   *instance
	}{
		{"original", instantiate(t, l, compile(t, orig), true)},
		{"snapshot", instantiate(t, l, compile(t, out), false)},
	} {
		in := c.in
		if v := in.call("ready"); v != int32(1) {
			t.Errorf("%s: ready = %v", c.name, v)
		}
		// "AAAA" at 0, "BzBB" at 100, "second" at 200 (copied at init).
		for addr, want := range map[int32]int32{0: 'A', 3: 'A', 100: 'B', 101: 'z', 200: 's', 205: 'd'} {
			if v := in.call("load8", addr); v != want {
				t.Errorf("%s: byte %d = %v, want %v", c.name, addr, v, want)
			}
		}
		// "passive-bytes"[5:13] = "ve-bytes"
		if v := in.call("load_p", int32(1000)); v != int64(0x73657479622d6576) {
			t.Errorf("%s: load_p = %#x", c.name, v)
		}
		if v := in.call("load_q"); v != int32(0x646e6f63) { // "cond"
			t.Errorf("%s: load_q = %#x", c.name, v)
		}
		// Active segments are dropped after instantiation: a zero-length
		// init succeeds and anything longer traps, before and after.
		if _, err := in.try("init_active", int32(0)); err != nil {
			t.Errorf("%s: zero-length init of an active segment: %v", c.name, err)
		}
		if _, err := in.try("init_active", int32(1)); err == nil {
			t.Errorf("%s: init of a dropped active segment did not trap", c.name)
		}
		in.call("drop_p")
		if _, err := in.try("load_p", int32(1000)); err == nil {
			t.Errorf("%s: init of a dropped passive segment did not trap", c.name)
		}
	}
}

func TestStartFunctionRunsOnce(t *testing.T) {
	orig := wat(t, `(module
  (memory 1)
  (global $count (mut i32) (i32.const 0))
  (func $start
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store (i32.const 64) (i32.const 0xbeef)))
  (start $start)
  (func (export "count") (result i32) (global.get $count))
  (func (export "word") (result i32) (i32.load (i32.const 64))))`)
	out, _ := snapshotOf(t, orig)
	m, err := parseModule(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.find(secStart) >= 0 {
		t.Error("start section kept")
	}
	in := instantiate(t, newLinker(t, clock{}), compile(t, out), false)
	if v := in.call("count"); v != int32(1) {
		t.Errorf("count = %v, want 1 (start ran once, at snapshot time)", v)
	}
	if v := in.call("word"); v != int32(0xbeef) {
		t.Errorf("word = %#x", v)
	}
	if in.hasExport(MemoryExport) {
		t.Error("the snapshot exports the instrumentation's memory name")
	}
}

func TestNoDataSegments(t *testing.T) {
	orig := wat(t, `(module
  (memory $m 2)
  (global $g (mut i64) (i64.const 0))
  (func $init (export "_initialize")
    (i64.store (i32.const 70000) (i64.const 0x0102030405060708))
    (global.set $g (i64.const 5)))
  (func $get (export "get") (result i64)
    (i64.add (global.get $g) (i64.load (i32.const 70000)))))`)
	if m, _ := parseModule(orig); m.find(secData) >= 0 {
		t.Fatal("test module has a data section")
	}
	out, stats := snapshotOf(t, orig)
	if stats.Segments != 1 || stats.NonZeroBytes != 8 {
		t.Errorf("stats %+v", stats)
	}
	m, _ := parseModule(out)
	di, ci := m.find(secData), m.find(secCode)
	if di != ci+1 {
		t.Errorf("data section at %d, code at %d", di, ci)
	}
	in := instantiate(t, newLinker(t, clock{}), compile(t, out), false)
	if v := in.call("get"); v != int64(0x0102030405060708+5) {
		t.Errorf("get = %#x", v)
	}

	// A module with neither memory nor data: only globals change.
	orig = wat(t, `(module
  (global $g (mut f64) (f64.const 0))
  (func (export "_initialize") (global.set $g (f64.const 1.25)))
  (func (export "get") (result f64) (global.get $g)))`)
	out, stats = snapshotOf(t, orig)
	if stats.Segments != 0 || stats.MemoryBytes != 0 {
		t.Errorf("stats %+v", stats)
	}
	in = instantiate(t, newLinker(t, clock{}), compile(t, out), false)
	if v := in.call("get"); v != 1.25 {
		t.Errorf("get = %v", v)
	}
}

// TestZeroedMemory: an initializer that clears an original data segment
// leaves no segment behind.
func TestZeroedMemory(t *testing.T) {
	orig := wat(t, `(module
  (memory 1)
  (data (i32.const 8) "\01\02\03\04")
  (func (export "_initialize") (i32.store (i32.const 8) (i32.const 0)))
  (func (export "word") (result i32) (i32.load (i32.const 8))))`)
	out, stats := snapshotOf(t, orig)
	if stats.Segments != 0 {
		t.Errorf("stats %+v", stats)
	}
	if m, _ := parseModule(out); m.find(secData) >= 0 {
		t.Error("empty data section kept")
	}
	in := instantiate(t, newLinker(t, clock{}), compile(t, out), false)
	if v := in.call("word"); v != int32(0) {
		t.Errorf("word = %#x", v)
	}
}

func TestInstrumentExports(t *testing.T) {
	orig := wat(t, `(module
  (import "env" "base" (global $base i32))
  (memory 1)
  (global $a (mut i32) (global.get $base))
  (global $b i64 (i64.const 1))
  (global $v v128 (v128.const i32x4 1 2 3 4))
  (global $r funcref (ref.null func))
  (global $c (mut f32) (f32.const 0)))`)
	instr, globals, err := Instrument(orig)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, instr)
	want := []GlobalInfo{
		{Index: 1, Type: I32, Mutable: true, ExportName: "__wedge_snapshot_global_1"},
		{Index: 2, Type: I64, Mutable: false, ExportName: "__wedge_snapshot_global_2"},
		{Index: 5, Type: F32, Mutable: true, ExportName: "__wedge_snapshot_global_5"},
	}
	if len(globals) != len(want) {
		t.Fatalf("globals %+v", globals)
	}
	for i := range want {
		if globals[i] != want[i] {
			t.Errorf("global %d: %+v, want %+v", i, globals[i], want[i])
		}
	}
	m, _ := parseModule(instr)
	o, _ := parseModule(orig)
	others := func(m *module) (raw [][]byte) {
		for _, s := range m.sections {
			if s.id != secExport {
				raw = append(raw, s.raw)
			}
		}
		return raw
	}
	if a, b := others(m), others(o); len(a) != len(b) || !bytes.Equal(bytes.Join(a, nil), bytes.Join(b, nil)) {
		t.Error("Instrument changed sections other than the exports")
	}
	if m.find(secExport) != m.find(secGlobal)+1 {
		t.Error("export section not inserted after the global section")
	}
	names := map[string]export{}
	for _, e := range m.exports {
		names[e.name] = e
	}
	if e, ok := names[MemoryExport]; !ok || e.kind != kindMemory {
		t.Errorf("memory not exported: %+v", m.exports)
	}
	for _, g := range want {
		if e, ok := names[g.ExportName]; !ok || e.kind != kindGlobal || e.index != g.Index {
			t.Errorf("%s not exported as global %d", g.ExportName, g.Index)
		}
	}
}

func TestUnsupportedModules(t *testing.T) {
	for _, c := range []struct{ name, src, msg string }{
		{"multi-memory", `(module (memory 1) (memory 1) (func (export "_initialize")))`, "multi-memory"},
		{"imported memory", `(module (import "env" "mem" (memory 1)))`, "imported"},
		{"imported and defined memory", `(module (import "env" "mem" (memory 1)) (memory 1))`, "imported"},
		{"memory64", `(module (memory i64 1))`, "memory64"},
		{"shared memory", `(module (memory 1 2 shared))`, "shared"},
		{"imported mutable global", `(module (import "env" "g" (global (mut i32))))`, "env.g"},
		{"mutable v128 global", `(module (global (mut v128) (v128.const i64x2 0 0)))`, "v128"},
		{"mutable funcref global", `(module (global (mut funcref) (ref.null func)))`, "cannot be captured"},
		{"export name taken", `(module (memory 1) (export "__wedge_snapshot_memory" (memory 0)))`, "already exports"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Instrument(wat(t, c.src))
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v, want ErrUnsupported mentioning %q", err, c.msg)
			}
			// Snapshot refuses before running anything.
			_, _, err = Snapshot(wat(t, c.src), func([]byte, []GlobalInfo) (State, error) {
				t.Fatal("runner called for an unsupported module")
				return State{}, nil
			})
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Snapshot err = %v", err)
			}
		})
	}
}

func TestRewriteRejectsMismatchedState(t *testing.T) {
	orig := wat(t, reactorWAT)
	_, globals, err := Instrument(orig)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]Value, len(globals))
	page := make([]byte, pageSize)
	for _, c := range []struct {
		name    string
		globals []GlobalInfo
		st      State
	}{
		{"too few values", globals, State{Globals: vals[1:], Memory: page}},
		{"partial page", globals, State{Globals: vals, Memory: page[:100]}},
		{"past the maximum", globals, State{Globals: vals, Memory: make([]byte, 101*pageSize)}},
		{"no memory", globals, State{Globals: vals}},
		{"other globals", globals[1:], State{Globals: vals[1:], Memory: page}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Rewrite(orig, c.globals, c.st); !errors.Is(err, ErrState) {
				t.Fatalf("err = %v, want ErrState", err)
			}
		})
	}
	if _, err := Rewrite(orig, globals, State{Globals: vals, Memory: page}); err != nil {
		t.Fatalf("matching state: %v", err)
	}
}

func TestRunnerErrorIsWrapped(t *testing.T) {
	boom := errors.New("boom")
	_, _, err := Snapshot(wat(t, `(module)`), func([]byte, []GlobalInfo) (State, error) { return State{}, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}

// TestTagsAndTablesPassThrough: tables, element segments, tags and their
// imports are copied unchanged. wasmtime-go cannot enable exceptions, so
// the module with tags is checked by bytes only.
func TestTagsAndTablesPassThrough(t *testing.T) {
	tables := `(module
  (table $tb 2 funcref)
  (elem (table $tb) (i32.const 0) func $f)
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func $f (export "f") (result i32) (global.get $g))
  (func (export "_initialize") (global.set $g (i32.const 9))))`
	tags := strings.Replace(tables, "(table $tb", `(import "env" "t" (table 1 funcref)) (import "env" "tag" (tag $e (param i32))) (tag $own (param i64)) (table $tb`, 1)
	for _, c := range []struct {
		name, src string
		ids       []byte
		validate  bool
	}{
		{"tables", tables, []byte{secTable, secElem, secCode}, true},
		{"tags", tags, []byte{secImport, secTag, secTable, secElem, secCode}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			orig := wat(t, c.src)
			instr, globals, err := Instrument(orig)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Rewrite(orig, globals, State{Globals: []Value{ValueI32(9)}, Memory: make([]byte, pageSize)})
			if err != nil {
				t.Fatal(err)
			}
			if c.validate {
				mustValidate(t, instr)
				mustValidate(t, out)
				in := instantiate(t, newLinker(t, clock{}), compile(t, out), false)
				if v := in.call("f"); v != int32(9) {
					t.Errorf("f = %v", v)
				}
			}
			m, _ := parseModule(out)
			o, _ := parseModule(orig)
			for _, id := range c.ids {
				if !bytes.Equal(m.sections[m.find(id)].raw, o.sections[o.find(id)].raw) {
					t.Errorf("section %d changed", id)
				}
			}
		})
	}
}

// TestSegmentCap: a memory with more isolated runs than maxSegments is
// written as exactly maxSegments segments and restores byte for byte.
func TestSegmentCap(t *testing.T) {
	orig := wat(t, `(module (memory (export "memory") 16) (global $g (mut i32) (i32.const 0)))`)
	_, globals, err := Instrument(orig)
	if err != nil {
		t.Fatal(err)
	}
	mem := make([]byte, 16*pageSize)
	for i := 0; i < len(mem); i += 64 {
		mem[i] = byte(i/64) | 1
	}
	st := State{Globals: []Value{ValueI32(3)}, Memory: mem}
	out, lay, err := rewrite(orig, globals, st)
	if err != nil {
		t.Fatal(err)
	}
	if lay.segments != maxSegments || lay.nonZero != len(mem)/64 {
		t.Errorf("layout %+v", lay)
	}
	again, err := Rewrite(orig, globals, st)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("rewrite is not deterministic (%v)", err)
	}
	mustValidate(t, out)
	in := instantiate(t, newLinker(t, clock{}), compile(t, out), false)
	got := in.inst.GetExport(in.store, "memory").Memory().UnsafeData(in.store)
	if !bytes.Equal(got, mem) {
		t.Error("restored memory differs from the captured one")
	}
}
