package runtime

import (
	"fmt"
	"testing"
)

// cgiEnvWAT is a WASI command that answers the number of environment
// variables it was given (environ_sizes_get) as two digits, or, with
// count 0, does not ask.
const cgiEnvWAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "Content-Type: text/plain\n\n--")
  (func (export "_start")
    (local $n i32)
    (if (i32.const %d) (then
      (drop (call $sizes (i32.const 16) (i32.const 20)))
      (local.set $n (i32.load (i32.const 16)))
      (i32.store8 (i32.const 90) (i32.add (i32.const 48) (i32.div_u (local.get $n) (i32.const 10))))
      (i32.store8 (i32.const 91) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 28))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`

// The CGI environment is built when the guest first asks for it: a
// command that reads none pays nothing, and one that does sees all of it.
func TestCGIEnvironmentBuiltOnFirstUse(t *testing.T) {
	e := newEngine(t)
	env := NewEnv("cgi", map[string]string{"GREETING": "hi"}, Limits{})

	quiet := compile(t, e, wat(t, fmt.Sprintf(cgiEnvWAT, 0)))
	if quiet.Entry != EntryCGI {
		t.Fatalf("entry %v, want CGI", quiet.Entry)
	}
	c, err := invoke(t, quiet, env, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Output) != "--" || len(c.cgiEnv) != 0 {
		t.Fatalf("a command reading no environment: output %q, %d variables built", c.Output, len(c.cgiEnv))
	}

	reads := compile(t, e, wat(t, fmt.Sprintf(cgiEnvWAT, 1)))
	c, err = invoke(t, reads, env, nil, []byte("abc"))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%02d", len(c.cgiEnv))
	if len(c.cgiEnv) < 13 || string(c.Output) != want {
		t.Fatalf("a command reading its environment: output %q, variables %q", c.Output, c.cgiEnv)
	}
	have := map[string]bool{}
	for _, kv := range c.cgiEnv {
		have[kv] = true
	}
	for _, kv := range []string{"GREETING=hi", "CONTENT_LENGTH=3", "GATEWAY_INTERFACE=CGI/1.1"} {
		if !have[kv] {
			t.Errorf("environment lacks %s: %q", kv, c.cgiEnv)
		}
	}

	// A call object reused for the next request starts without one.
	c.reset()
	if len(c.cgiEnv) != 0 {
		t.Fatalf("after reset: %d variables", len(c.cgiEnv))
	}
}
