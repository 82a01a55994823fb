package node_test

import (
	"testing"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
)

// A WASI call that fails where the guest would not notice (an
// out-of-bounds iovec: the output vanished) leaves one line per call per
// request in the function's logs, naming the call and the errno; routine
// errnos (the fd_prestat_get scan) leave none.
func TestWASIFailureInFunctionLogs(t *testing.T) {
	n := testutil.StartNode(t, "")
	wasm := testutil.WAT(t, `(module
	  (import "wasi_snapshot_preview1" "fd_write" (func $fdw (param i32 i32 i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "random_get" (func $rand (param i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
	  (import "wedge_v1" "response_write" (func $w (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (data (i32.const 32) "\30\00\00\00\03\00\00\00")
	  (data (i32.const 48) "ok\0a")
	  (data (i32.const 64) "done")
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (drop (call $prestat (i32.const 3) (i32.const 0)))
	    ;; three writes through an iovec array past the end of memory
	    (drop (call $fdw (i32.const 1) (i32.const 0xfffff0) (i32.const 1) (i32.const 0)))
	    (drop (call $fdw (i32.const 1) (i32.const 0xfffff0) (i32.const 1) (i32.const 0)))
	    (drop (call $fdw (i32.const 2) (i32.const 0xfffff0) (i32.const 1) (i32.const 0)))
	    (drop (call $rand (i32.const 0xffff0) (i32.const 64)))
	    (drop (call $fdw (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 0)))
	    (drop (call $w (i32.const 64) (i32.const 4))) (i32.const 0)))`)
	deploy(t, n, "faulty", wasm, "/faulty")
	ids := map[string]bool{}
	for i := 0; i < 2; i++ {
		r := testutil.Get(t, n.PublicURL()+"/faulty")
		if r.Status != 200 || r.Body != "done" {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
		ids[r.Header.Get("X-Request-Id")] = true
	}
	count := map[string]int{} // request id + message
	err := testutil.Client(n).Logs(ctx, "faulty", 0, false, func(e client.LogEntry) {
		if !ids[e.RequestID] {
			t.Errorf("log line of an unknown request: %+v", e)
		}
		count[e.Stream+": "+e.Message]++
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"wedge: wasi fd_write: EFAULT (iovec out of bounds)":                                       2,
		"wedge: wasi random_get: EFAULT (a pointer or length out of bounds of the guest's memory)": 2,
		"stdout: ok": 2,
	}
	if len(count) != len(want) {
		t.Fatalf("log lines %v, want %v", count, want)
	}
	for line, n := range want {
		if count[line] != n {
			t.Fatalf("log lines %v, want %v", count, want)
		}
	}
}
