package node_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
)

// isolationWAT is the body shared by the WAT guests of
// TestIsolationEveryGuestKind: it increments a global, a byte at 64 KiB,
// one byte in every other 4 KiB page of [128 KiB, 1.6 MiB) (more separate
// runs of written pages than one PAGEMAP_SCAN reports), and the first
// byte of a page it grows, then stores the digits global, heap, the
// largest strided byte and the grown byte at $out.
const isolationWAT = `
  (global $g (mut i32) (i32.const 0))
  (func $bump (param $out i32)
    (local $a i32) (local $most i32) (local $grown i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (i32.store8 (i32.const 0x10000) (i32.add (i32.load8_u (i32.const 0x10000)) (i32.const 1)))
    (local.set $a (i32.const 0x20000))
    (loop $l
      (i32.store8 (local.get $a) (i32.add (i32.load8_u (local.get $a)) (i32.const 1)))
      (if (i32.gt_u (i32.load8_u (local.get $a)) (local.get $most))
        (then (local.set $most (i32.load8_u (local.get $a)))))
      (local.set $a (i32.add (local.get $a) (i32.const 0x2000)))
      (br_if $l (i32.lt_u (local.get $a) (i32.const 0x1a0000))))
    (local.set $grown (i32.mul (memory.grow (i32.const 1)) (i32.const 0x10000)))
    (i32.store8 (i32.add (local.get $out) (i32.const 3)) (i32.add (i32.const 48) (i32.load8_u (local.get $grown))))
    (i32.store8 (local.get $grown) (i32.const 9))
    (i32.store8 (local.get $out) (i32.add (i32.const 48) (global.get $g)))
    (i32.store8 (i32.add (local.get $out) (i32.const 1)) (i32.add (i32.const 48) (i32.load8_u (i32.const 0x10000))))
    (i32.store8 (i32.add (local.get $out) (i32.const 2)) (i32.add (i32.const 48) (local.get $most))))`

// TestIsolationEveryGuestKind: a request never observes a byte or a
// global written by an earlier one, for each kind of guest the runtime
// serves (native WAT, a WASI command served CGI-style, the Go SDK with
// its deploy-time snapshot), whichever way the pool resets a freed
// memory slot: the state each guest increments must read 1 every time,
// and memory it grows must read 0, over sequential and concurrent
// requests that reuse the same slots.
func TestIsolationEveryGuestKind(t *testing.T) {
	n := testutil.StartNode(t, "")
	native := mustWat(t, `(module
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (memory (export "memory") 32)`+isolationWAT+`
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (call $bump (i32.const 0x100))
	    (drop (call $write (i32.const 0x100) (i32.const 4)))
	    (i32.const 0)))`)
	cgi := mustWat(t, `(module
	  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
	  (memory (export "memory") 32)
	  (data (i32.const 0x100) "Content-Type: text/plain\n\n")`+isolationWAT+`
	  (func (export "_start")
	    (call $bump (i32.const 0x11a))
	    (i32.store (i32.const 0) (i32.const 0x100))
	    (i32.store (i32.const 4) (i32.const 30))
	    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`)
	deploy(t, n, "iso-native", native, "/iso/native")
	deploy(t, n, "iso-cgi", cgi, "/iso/cgi")
	f := deploy(t, n, "iso-go", testutil.BuildGoWasm(t, "sdk/go/testdata/counter", true), "/iso/go")
	if f.Snapshot == nil {
		t.Fatal("the Go guest was deployed without a snapshot")
	}
	// A JavaScript function answers at first through the engine's shared
	// code linked to its own memory image, then compiled whole
	// (runtime/split.go): the "js" case runs on either path (whichever
	// the background compilation leaves it), "js-whole" on the second;
	// internal/js's TestSnapshotsShareEngineCode holds each path alone.
	// The script of internal/js's isolation tests: a global, a heap
	// object and a 1 MiB buffer, each incremented per request.
	isolationJS, err := os.ReadFile("../js/testdata/isolation.js")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := testutil.Client(n).Deploy(ctx, "iso-js", isolationJS, client.DeployOptions{Routes: []string{"/iso/js"}, JavaScript: true}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/iso/native": "1110",
		"/iso/cgi":    "1110",
		"/iso/go":     "global=1 heap=1 spread=1 grown-dirty=0",
		"/iso/js":     "global=1 heap=1 spread=1",
	}
	check := func(name, path, w string) {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan string, 64)
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 10; i++ {
						r := testutil.Do(t, "GET", n.PublicURL()+path, nil, nil)
						if r.Status != 200 || r.Body != w {
							errs <- fmt.Sprintf("%d %q", r.Status, r.Body)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Fatalf("want %q, got %s: a request saw state from another", w, e)
			}
		})
	}
	for path, w := range want {
		check(strings.TrimPrefix(path, "/iso/"), path, w)
	}
	n.Engine.WaitCompiled()
	check("js-whole", "/iso/js", want["/iso/js"])
}

func mustWat(t *testing.T, src string) []byte {
	t.Helper()
	b, err := wasmtime.Wat2Wasm(src)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
