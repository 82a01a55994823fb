package runtime

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/abi"
)

func wat(t testing.TB, src string) []byte {
	t.Helper()
	b, err := wasmtime.Wat2Wasm(src)
	if err != nil {
		t.Fatalf("wat2wasm: %v", err)
	}
	return b
}

type memLogs struct {
	mu    sync.Mutex
	lines []string
}

func (l *memLogs) Append(fn, req string, level int32, stream string, line []byte) {
	l.mu.Lock()
	l.lines = append(l.lines, stream+":"+string(line))
	l.mu.Unlock()
}

func (l *memLogs) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func newEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func compile(t testing.TB, e *Engine, wasm []byte) *Module {
	t.Helper()
	m, err := e.Compile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Release)
	return m
}

func invoke(t testing.TB, m *Module, env *Env, head, body []byte) (*Call, error) {
	t.Helper()
	c := NewCall()
	c.Env = env
	c.Head = append(c.Head[:0], head...)
	c.Body = body
	err := m.Invoke(c)
	return c, err
}

const helloWAT = `(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (drop (call $write (i32.const 16) (i32.const 5)))
    (i32.const 0)))`

func TestHello(t *testing.T) {
	e := newEngine(t)
	m := compile(t, e, wat(t, helloWAT))
	if m.Entry != EntryNative {
		t.Fatalf("entry = %v", m.Entry)
	}
	c, err := invoke(t, m, NewEnv("hello", nil, Limits{}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != 200 || string(c.Output) != "hello" {
		t.Fatalf("got %d %q", c.Status, c.Output)
	}
}

func TestFreshInstancePerCall(t *testing.T) {
	e := newEngine(t)
	m := compile(t, e, wat(t, `(module
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (global $n (mut i32) (i32.const 0))
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (global.set $n (i32.add (global.get $n) (i32.const 1)))
	    (i32.store8 (i32.const 0) (i32.add (i32.const 48) (global.get $n)))
	    (drop (call $write (i32.const 0) (i32.const 1)))
	    (i32.const 0)))`))
	env := NewEnv("counter", nil, Limits{})
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				c, err := invoke(t, m, env, nil, nil)
				if err != nil || string(c.Output) != "1" {
					errs <- string(c.Output)
				}
				c.Release()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("a call saw state from another: %q", e)
	}
}

func TestDeployErrors(t *testing.T) {
	e := newEngine(t)
	cases := []struct {
		name string
		wasm []byte
		want error
		text string
	}{
		{"empty", nil, ErrInvalidModule, "empty"},
		{"garbage", []byte("not wasm at all"), ErrInvalidModule, ""},
		{"truncated", wat(t, helloWAT)[:20], ErrInvalidModule, ""},
		{"unknown import", wat(t, `(module (import "env" "boom" (func)) (import "wedge_v1" "nope" (func))
			(memory (export "memory") 1) (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`),
			ErrUnknownImports, "env.boom"},
		{"bad signature", wat(t, `(module (import "wedge_v1" "response_write" (func (param i64)))
			(memory (export "memory") 1) (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`),
			ErrUnknownImports, "wedge_v1.response_write"},
		{"no entry", wat(t, `(module (memory (export "memory") 1) (func (export "other")))`), ErrNoEntry, "wedge_handle"},
		{"handle without memory", wat(t, `(module (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`), ErrNoEntry, "memory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := e.Compile(tc.wasm)
			if err == nil {
				m.Release()
				t.Fatal("compiled")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %q does not mention %q", err, tc.text)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
		})
	}
}

func TestUnknownImportsNamesEveryOne(t *testing.T) {
	e := newEngine(t)
	_, err := e.Compile(wat(t, `(module (import "env" "a" (func)) (import "env" "b" (func))
		(memory (export "memory") 1) (func (export "wedge_handle") (param i32 i32) (result i32) (i32.const 0)))`))
	if err == nil || !strings.Contains(err.Error(), "env.a") || !strings.Contains(err.Error(), "env.b") {
		t.Fatalf("err = %v", err)
	}
}

func hostile(t *testing.T, body string) string {
	return `(module
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
	  (memory (export "memory") 1)
	  (func $recurse (param i32) (result i32) (call $recurse (i32.add (local.get 0) (i32.const 1))))
	  (func (export "wedge_handle") (param i32 i32) (result i32) ` + body + `))`
}

func TestHostileGuests(t *testing.T) {
	e := newEngine(t)
	env := NewEnv("hostile", nil, Limits{Timeout: 300 * time.Millisecond, MemoryBytes: 4 << 20, MaxResponseBytes: 1 << 20})
	cases := []struct {
		name string
		body string
		kind error
		text string
	}{
		{"infinite loop", `(loop $l (br $l)) (i32.const 0)`, ErrTimeout, "time limit"},
		{"memory growth", `(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable`, ErrTrap, "memory limit"},
		{"stack overflow", `(call $recurse (i32.const 0))`, ErrTrap, "stack overflow"},
		{"out of bounds pointer", `(call $write (i32.const 65000) (i32.const 100000))`, ErrTrap, "response_write: pointer out of bounds"},
		{"negative pointer", `(call $write (i32.const -1) (i32.const 16))`, ErrTrap, "out of bounds"},
		{"huge response", `(loop $l (br_if $l (i32.gt_s (call $write (i32.const 0) (i32.const 65536)) (i32.const 0)))) (i32.const 0)`, ErrResponseTooLarge, "response"},
		{"proc_exit 3", `(call $exit (i32.const 3)) (i32.const 0)`, ErrExit, "code 3"},
		{"unreachable", `unreachable`, ErrTrap, "unreachable"},
		{"handler error", `(i32.const 7)`, ErrHandler, "returned 7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := compile(t, e, wat(t, hostile(t, tc.body)))
			start := time.Now()
			c, err := invoke(t, m, env, nil, nil)
			defer c.Release()
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %q does not mention %q", err, tc.text)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), ".rs") {
				t.Fatalf("error leaks internals: %q", err)
			}
			if tc.kind == ErrTimeout && time.Since(start) > 5*time.Second {
				t.Fatalf("timeout took %v", time.Since(start))
			}
		})
	}
	// The engine is fine afterwards.
	m := compile(t, e, wat(t, helloWAT))
	c, err := invoke(t, m, env, nil, nil)
	if err != nil || string(c.Output) != "hello" {
		t.Fatalf("after hostile guests: %v %q", err, c.Output)
	}
	if n := e.Stats().InstancesNow; n != 0 {
		t.Fatalf("instances still live: %d", n)
	}
}

func TestRequestAndResponseHead(t *testing.T) {
	e := newEngine(t)
	// Echo the request head back as the body, set status 201 and a header.
	m := compile(t, e, wat(t, `(module
	  (import "wedge_v1" "request_head" (func $head (param i32 i32) (result i32)))
	  (import "wedge_v1" "request_body" (func $body (param i32 i32) (result i32)))
	  (import "wedge_v1" "response_head" (func $rhead (param i32 i32 i32) (result i32)))
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  ;; header list: count=1, "X-A" = "b"
	  (data (i32.const 0) "\01\00\00\00\03\00\00\00X-A\01\00\00\00b")
	  (func (export "wedge_handle") (param $hl i32) (param $bl i32) (result i32)
	    (local $n i32)
	    (if (i32.ne (call $head (i32.const 1024) (i32.const 4)) (local.get $hl)) (then unreachable))
	    (local.set $n (call $head (i32.const 1024) (local.get $hl)))
	    (drop (call $rhead (i32.const 201) (i32.const 0) (i32.const 16)))
	    (drop (call $write (i32.const 1024) (local.get $n)))
	    (local.set $n (call $body (i32.const 8192) (i32.const 3)))
	    (drop (call $write (i32.const 8192) (local.get $n)))
	    (local.set $n (call $body (i32.const 8192) (i32.const 100)))
	    (drop (call $write (i32.const 8192) (local.get $n)))
	    (i32.const 0)))`))
	head := abi.AppendString(nil, "POST")
	head = abi.AppendString(head, "/x?y=1")
	c, err := invoke(t, m, NewEnv("echo", nil, Limits{}), head, []byte("abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != 201 {
		t.Fatalf("status %d", c.Status)
	}
	want := string(head) + "abcdef"
	if string(c.Output) != want {
		t.Fatalf("body %q want %q", c.Output, want)
	}
	var got []string
	abi.DecodeHeaders(c.Headers, func(n, v []byte) error { got = append(got, string(n)+"="+string(v)); return nil })
	if len(got) != 1 || got[0] != "X-A=b" {
		t.Fatalf("headers %v", got)
	}
}

func TestRestartLoadsFromCache(t *testing.T) {
	dir := t.TempDir()
	e1, err := NewEngine(Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	wasm := wat(t, helloWAT)
	m1, err := e1.Compile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	m1.Release()
	e1.Close()
	e2, err := NewEngine(Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	m2, err := e2.Load(SHA256Hex(wasm))
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Release()
	if !m2.FromCache || e2.Stats().Compiles != 0 {
		t.Fatalf("recompiled: %+v", e2.Stats())
	}
	c, err := invoke(t, m2, NewEnv("hello", nil, Limits{}), nil, nil)
	if err != nil || string(c.Output) != "hello" {
		t.Fatalf("%v %q", err, c.Output)
	}
}

func TestPreinitializeIsReproducible(t *testing.T) {
	e := newEngine(t)
	// A reactor whose initializer reads the clock and randomness into memory.
	wasm := wat(t, `(module
	  (import "wasi_snapshot_preview1" "random_get" (func $rand (param i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (global $inits (mut i32) (i32.const 0))
	  (func (export "_initialize")
	    (drop (call $rand (i32.const 0) (i32.const 16)))
	    (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 16)))
	    (global.set $inits (i32.add (global.get $inits) (i32.const 1))))
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (i32.store8 (i32.const 24) (i32.add (i32.const 48) (global.get $inits)))
	    (drop (call $write (i32.const 0) (i32.const 25)))
	    (i32.const 0)))`)
	env := NewEnv("snap", map[string]string{"A": "1"}, Limits{})
	out1, st, err := e.Preinitialize(wasm, env)
	if err != nil {
		t.Fatal(err)
	}
	out2, _, err := e.Preinitialize(wasm, env)
	if err != nil {
		t.Fatal(err)
	}
	if SHA256Hex(out1) != SHA256Hex(out2) || st.SHA256 != SHA256Hex(out1) {
		t.Fatal("two snapshots of the same module differ")
	}
	m := compile(t, e, out1)
	if m.HasInit {
		t.Fatal("snapshot still exports _initialize")
	}
	// Every request starts after exactly one initialization, and sees the
	// initializer's random bytes without running it again.
	c1, err := invoke(t, m, env, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := invoke(t, m, env, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c1.Output[24] != '1' || string(c1.Output) != string(c2.Output) {
		t.Fatalf("%q vs %q", c1.Output, c2.Output)
	}
	if allZero(c1.Output[:16]) {
		t.Fatal("random bytes from initialization are missing")
	}
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// TestInvokeAllocations guards the hot path: a minimal request allocates
// a handful of small objects on the Go heap (the store's wrappers), not
// per-call wrappers with finalizers.
func TestInvokeAllocations(t *testing.T) {
	e := newEngine(t)
	m := compile(t, e, wat(t, helloWAT))
	env := NewEnv("hello", nil, Limits{})
	allocs := testing.AllocsPerRun(200, func() {
		c := NewCall()
		c.Env = env
		if err := m.Invoke(c); err != nil {
			t.Fatal(err)
		}
		c.Release()
	})
	if allocs > 10 {
		t.Fatalf("%.0f allocations per request; the hot path allows 10", allocs)
	}
}

// TestNoLeaks runs many requests and checks that stores, instances and
// memory do not pile up.
func TestNoLeaks(t *testing.T) {
	e := newEngine(t)
	m := compile(t, e, wat(t, helloWAT))
	env := NewEnv("hello", nil, Limits{})
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	run := func(k int) {
		for i := 0; i < k; i++ {
			c := NewCall()
			c.Env = env
			if err := m.Invoke(c); err != nil {
				t.Fatal(err)
			}
			c.Release()
		}
	}
	run(2000) // warm the pool
	before := rss(t)
	run(n)
	after := rss(t)
	if st := e.Stats(); st.InstancesNow != 0 || st.LiveModules != 1 {
		t.Fatalf("leaked: %+v", st)
	}
	if grow := after - before; grow > 64<<20 {
		t.Fatalf("RSS grew by %d MiB over %d requests", grow>>20, n)
	}
	t.Logf("RSS %d MiB -> %d MiB over %d requests", before>>20, after>>20, n)
}

func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm")
	}
	var size, res int64
	fmt.Sscan(string(b), &size, &res)
	return res * int64(os.Getpagesize())
}
