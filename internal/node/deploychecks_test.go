package node_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/testutil"
)

// memoryModule is a native handler answering "ok" whose memory starts at
// pages pages.
func memoryModule(t testing.TB, pages int) []byte {
	return testutil.WAT(t, fmt.Sprintf(`(module
	  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
	  (memory (export "memory") %d)
	  (data (i32.const 0) "ok")
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (drop (call $write (i32.const 0) (i32.const 2))) (i32.const 0)))`, pages))
}

// bigModuleWithImport is a module of about size bytes of code that
// imports env.sneaky: compiling it would take the compiler seconds.
func bigModuleWithImport(size int) []byte {
	var b bytes.Buffer
	uleb := func(v int) {
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v != 0 {
				b.WriteByte(c | 0x80)
				continue
			}
			b.WriteByte(c)
			return
		}
	}
	section := func(id byte, payload []byte) {
		b.WriteByte(id)
		uleb(len(payload))
		b.Write(payload)
	}
	b.WriteString("\x00asm\x01\x00\x00\x00")
	section(1, []byte{2, 0x60, 0, 0, 0x60, 2, 0x7f, 0x7f, 1, 0x7f})
	section(2, []byte{1, 3, 'e', 'n', 'v', 6, 's', 'n', 'e', 'a', 'k', 'y', 0, 0})
	section(3, []byte{1, 1})
	section(5, []byte{1, 0, 1})
	section(7, append([]byte{2, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0, 12}, append([]byte("wedge_handle"), 0, 1)...))
	body := append([]byte{0}, bytes.Repeat([]byte{0x41, 0x00, 0x1a}, size/3)...)
	body = append(body, 0x41, 0x00, 0x0b)
	var code bytes.Buffer
	code.WriteByte(1)
	n := len(body)
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			code.WriteByte(c | 0x80)
			continue
		}
		code.WriteByte(c)
		break
	}
	code.Write(body)
	section(10, code.Bytes())
	return b.Bytes()
}

// TestDeployRefusesWhatCouldNeverRun drives the deploy checks through the
// admin API of a real node: a module whose memory minimum is above the
// function's memory limit, a route no request path could match, limits
// outside the documented ranges, and a large module with an unknown
// import, refused from its declarations without running the compiler.
func TestDeployRefusesWhatCouldNeverRun(t *testing.T) {
	n := testutil.StartNode(t, "")
	cl := testutil.Client(n)
	refused := func(what string, err error, status int, text string) {
		t.Helper()
		if !client.IsStatus(err, status) || !strings.Contains(err.Error(), text) {
			t.Errorf("%s: %v\nwant %d %q", what, err, status, text)
		}
	}

	// Memory minimum above the limit: 400 naming both, at deploy, and
	// nothing stored.
	_, _, err := cl.Deploy(ctx, "big-memory", memoryModule(t, 4800), client.DeployOptions{Routes: []string{"/big"}})
	refused("4800 pages", err, 400, "memory minimum 300 MiB (4800 pages) exceeds the function's limit of 128 MiB")
	_, _, err = cl.Deploy(ctx, "huge-memory", memoryModule(t, 65536), client.DeployOptions{Routes: []string{"/huge"}})
	refused("65536 pages", err, 400, "memory minimum 4096 MiB (65536 pages) exceeds the function's limit of 128 MiB")
	_, _, err = cl.Deploy(ctx, "huge-memory", memoryModule(t, 65536), client.DeployOptions{Routes: []string{"/huge"}, MemoryMB: 1024})
	refused("65536 pages at the largest limit", err, 400, "memory minimum 4096 MiB (65536 pages) exceeds the function's limit of 1024 MiB")
	if r := testutil.Get(t, n.PublicURL()+"/big"); r.Status != 404 {
		t.Errorf("the refused module is served: %d", r.Status)
	}
	// The same module under a limit that holds it deploys and serves.
	if _, _, err := cl.Deploy(ctx, "big-memory", memoryModule(t, 4800), client.DeployOptions{Routes: []string{"/big"}, MemoryMB: 300}); err != nil {
		t.Fatalf("4800 pages under 300 MiB: %v", err)
	}
	if r := testutil.Get(t, n.PublicURL()+"/big"); r.Status != 200 || r.Body != "ok" {
		t.Fatalf("4800 pages under 300 MiB: %d %q", r.Status, r.Body)
	}

	// Routes that normalization would change could never match.
	for _, route := range []string{"/a/../b", "/..", "/a/./b", "//a", "/a//b", "/caf%C3%A9", "/x/../..."} {
		_, _, err := cl.Deploy(ctx, "noncanonical", text(t, "x"), client.DeployOptions{Routes: []string{route}})
		refused("route "+route, err, 400, "request paths are normalized, so it would never match")
	}

	// Limits outside the ranges of package abi; a memory_mb or timeout_ms
	// so large that converting it wrapped around used to be accepted.
	for _, q := range []string{"memory_mb=2048", "memory_mb=17592186044417", "timeout_ms=900001", "timeout_ms=18446744073709",
		"max_response_bytes=1073741825"} {
		r := testutil.Do(t, "PUT", n.AdminURL()+"/v1/functions/limits?route=/limits&"+q, bytes.NewReader(text(t, "x")),
			map[string]string{"Authorization": "Bearer " + testutil.Token})
		if r.Status != 400 {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	if _, _, err := cl.Deploy(ctx, "limits", text(t, "x"), client.DeployOptions{Routes: []string{"/limits"}, MemoryMB: 1024, TimeoutMS: 900000}); err != nil {
		t.Errorf("the largest limits: %v", err)
	}
	// The same ranges on an app deploy (its spec is checked by the manifest
	// package on the node).
	for _, fn := range []string{`"limits":{"memory_mb":2048},"routes":["/app"]`, `"routes":["/a/../b"]`} {
		spec := `{"spec_version":1,"app":{"name":"shop"},"functions":{"f":{"module":"f.wasm",` + fn + `}}}`
		_, err := cl.DeployApp(ctx, "shop", []byte(spec), map[string][]byte{"f": text(t, "x")})
		refused("app "+fn, err, 400, map[bool]string{true: "must be between 1 and 1024, got 2048", false: "would never match"}[strings.Contains(fn, "memory")])
	}

	// An unknown import is found before compiling: the compiler never
	// runs for a module of megabytes of code.
	before := n.Engine.Stats().Compiles
	big := bigModuleWithImport(4 << 20)
	_, _, err = cl.Deploy(ctx, "sneaky", big, client.DeployOptions{Routes: []string{"/sneaky"}})
	refused(fmt.Sprintf("%d bytes importing env.sneaky", len(big)), err, 400, "env.sneaky")
	if got := n.Engine.Stats().Compiles; got != before {
		t.Errorf("the compiler ran %d times for a module refused for its imports", got-before)
	}
	fns, err := cl.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fns {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "big-memory,limits" {
		t.Errorf("stored functions: %v", names)
	}
}
