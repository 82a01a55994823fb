package benchmarks

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/runtime"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

// kvGetWAT reads key "k" (a 100-byte value) n times in one request.
func kvGetWAT(n int) string {
	return fmt.Sprintf(`(module
  (import "wedge_v1" "kv_get" (func $get (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "k")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (i32.const %d)))
      (drop (call $get (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 1024) (i32.const 4096) (i32.const 64)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (drop (call $write (i32.const 1024) (i32.const 100)))
    (i32.const 0)))`, n)
}

// BenchmarkGuestKVGet: the time of one kv_get of a 100-byte value from
// inside a request. Each op is one request making 1,000 calls (or none,
// for the request's own cost); the difference divided by 1,000 is the
// cost of one call.
func BenchmarkGuestKVGet(b *testing.B) {
	n, err := node.Start(context.Background(), node.Config{HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", DataDir: b.TempDir(), AdminToken: "x"})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	for _, calls := range []int{0, 1000} {
		name := fmt.Sprintf("get%d", calls)
		if _, _, err := n.Registry.Deploy(context.Background(), registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: name}, Wasm: testutil.WAT(b, kvGetWAT(calls))}); err != nil {
			b.Fatal(err)
		}
		if _, err := n.KV.Put(context.Background(), name, "k", []byte(strings.Repeat("v", 100)), kv.PutOptions{}); err != nil {
			b.Fatal(err)
		}
		f, _ := n.Registry.Get(name)
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c := runtime.NewCall()
				c.Env = f.Env
				if err := f.Module.Invoke(c); err != nil || len(c.Output) != 100 {
					b.Fatal(err)
				}
				c.Release()
			}
		})
	}
}
