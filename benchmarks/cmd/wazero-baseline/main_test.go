package main

import (
	"sync"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/examples"
)

func wat(t *testing.T, src string) []byte {
	t.Helper()
	b, err := wasmtime.Wat2Wasm(src)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func call(h fasthttp.RequestHandler) (int, string) {
	var rc fasthttp.RequestCtx
	rc.Request.SetRequestURI("/hello")
	h(&rc)
	return rc.Response.StatusCode(), string(rc.Response.Body())
}

func TestServesHello(t *testing.T) {
	h, closeRT, err := newHandler(t.Context(), wat(t, examples.HelloWAT), false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRT()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if code, body := call(h); code != 200 || body != "hello from wedge\n" {
					t.Errorf("%d %q", code, body)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A guest that counts its calls in a global answers "1" every time only
// if every request gets a fresh instance.
func TestFreshInstancePerRequest(t *testing.T) {
	counter := wat(t, `(module
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (global $calls (mut i32) (i32.const 0))
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
	    (i32.store8 (i32.const 0) (i32.add (i32.const 48) (global.get $calls)))
	    (drop (call $write (i32.const 0) (i32.const 1)))
	    (i32.const 0)))`)
	for _, interp := range []bool{false, true} {
		h, closeRT, err := newHandler(t.Context(), counter, interp)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if code, body := call(h); code != 200 || body != "1" {
				t.Fatalf("interpreter=%v: %d %q", interp, code, body)
			}
		}
		closeRT()
	}
	if _, _, err := newHandler(t.Context(), wat(t, `(module (memory (export "memory") 1))`), false); err == nil {
		t.Error("a module without wedge_handle was accepted")
	}
}
