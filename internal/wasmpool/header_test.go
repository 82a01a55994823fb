package wasmpool

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// upstreamInclude returns the include directory shipped with the
// wasmtime-go version this module requires, located through the go
// command rather than a hard-coded module cache path.
func upstreamInclude(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", wasmtimePkg).Output()
	if err != nil {
		t.Skipf("cannot locate %s: %v", wasmtimePkg, err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "build", "include")
	if _, err := os.Stat(filepath.Join(dir, "wasmtime.h")); err != nil {
		t.Skipf("no upstream headers: %v", err)
	}
	return dir
}

func cc(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "CC").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Skip("no C compiler configured")
	}
	return strings.Fields(string(out))[0]
}

// TestHeaderMatchesUpstream compiles wasmpool.h, and call.c which uses
// it, after wasmtime's own headers. C rejects a function redeclared with a
// different prototype and a typedef redeclared as a different type, the
// header's _Static_asserts then check the upstream struct layouts, and
// call.c's field accesses are checked against the upstream structs, so
// any drift in the restated declarations is a compile error here.
func TestHeaderMatchesUpstream(t *testing.T) {
	inc, compiler := upstreamInclude(t), cc(t)
	for _, file := range []string{"wasmpool.h", "call.c"} {
		for _, std := range []string{"c11", "gnu17"} {
			cmd := exec.Command(compiler, "-fsyntax-only", "-std="+std, "-Wall", "-Werror", "-x", "c",
				"-I", inc, "-include", "wasmtime.h", file)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s conflicts with the upstream headers (-std=%s): %v\n%s", file, std, err, out)
			}
		}
		// The header must also stand alone, as cgo compiles it.
		if out, err := exec.Command(compiler, "-fsyntax-only", "-std=c11", "-Wall", "-Werror", "-x", "c", file).CombinedOutput(); err != nil {
			t.Fatalf("%s alone: %v\n%s", file, err, out)
		}
	}
}

// TestHeaderLayoutAssertsBite shows that the _Static_asserts in wasmpool.h
// catch a struct that changed upstream: each case stands in for an
// upstream header (defining its include guard, so that wasmpool.h skips
// its own bodies) with one field changed, and must fail to compile.
func TestHeaderLayoutAssertsBite(t *testing.T) {
	compiler := cc(t)
	const extern = `#define WASMTIME_EXTERN_H
typedef struct wasmtime_func { uint64_t store_id; void *__private; } wasmtime_func_t;
typedef struct wasmtime_memory { struct { uint64_t store_id; uint32_t __private1; }; uint32_t __private2; } wasmtime_memory_t;
typedef uint8_t wasmtime_extern_kind_t;
#define WASMTIME_EXTERN_FUNC 0
#define WASMTIME_EXTERN_MEMORY 3
typedef struct wasmtime_extern { wasmtime_extern_kind_t kind; union { wasmtime_func_t func; wasmtime_memory_t memory; void *p; } of; } wasmtime_extern_t;
`
	const val = `#define WASMTIME_VAL_H
typedef uint8_t wasmtime_valkind_t;
#define WASMTIME_I32 0
typedef struct wasmtime_val { wasmtime_valkind_t kind; union { int32_t i32; int64_t i64; uint8_t big[24]; } of; } wasmtime_val_t;
typedef union wasmtime_val_raw { int64_t i64; uint8_t bytes[16]; } wasmtime_val_raw_t;
`
	prelude := "#include <stddef.h>\n#include <stdint.h>\n"
	// The unchanged stand-ins compile, so the failures below are the asserts'.
	good := prelude + extern + val + "#include \"wasmpool.h\"\n"
	if out, err := compileC(t, compiler, good); err != nil {
		t.Fatalf("unchanged stand-in headers do not compile: %v\n%s", err, out)
	}
	for _, c := range []struct{ name, old, new string }{
		{"val kind widened", "wasmtime_valkind_t kind; union", "uint32_t kind; union"},
		{"val union grew", "uint8_t big[24]", "uint8_t big[40]"},
		{"i32 moved", "union { int32_t i32;", "union { struct { int32_t pad, i32; };"},
		{"func grew", "void *__private; }", "void *__private; void *more; }"},
		{"memory shrank", "uint32_t __private2; }", "}"},
		{"extern kind renumbered", "#define WASMTIME_EXTERN_MEMORY 3", "#define WASMTIME_EXTERN_MEMORY 4"},
		{"i32 renumbered", "#define WASMTIME_I32 0", "#define WASMTIME_I32 1"},
		{"raw value grew", "uint8_t bytes[16]", "uint8_t bytes[32]"},
	} {
		src := strings.Replace(good, c.old, c.new, 1)
		if src == good {
			t.Fatalf("%s: stand-in text not found", c.name)
		}
		if out, err := compileC(t, compiler, src); err == nil {
			t.Errorf("%s: wasmpool.h compiled against a changed layout", c.name)
		} else if !strings.Contains(string(out), "static assert") && !strings.Contains(string(out), "static_assert") {
			t.Errorf("%s: failed, but not on an assert:\n%s", c.name, out)
		}
	}
}

func compileC(t *testing.T, compiler, src string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(compiler, "-fsyntax-only", "-std=c11", "-x", "c", "-I", ".", "-")
	cmd.Stdin = strings.NewReader(src)
	return cmd.CombinedOutput()
}

// TestHeaderFunctionsExistUpstream catches the case the compiler cannot: a
// function declared here that upstream no longer declares at all (the
// linker would then fail on it). Names are looked up in the preprocessed
// upstream header, because many are generated by macros.
func TestHeaderFunctionsExistUpstream(t *testing.T) {
	inc, compiler := upstreamInclude(t), cc(t)
	cmd := exec.Command(compiler, "-E", "-P", "-x", "c", "-I", inc, "-")
	cmd.Stdin = strings.NewReader("#include <wasmtime.h>\n")
	upstream, err := cmd.Output()
	if err != nil {
		t.Fatalf("preprocessing wasmtime.h: %v", err)
	}
	ours, err := os.ReadFile("wasmpool.h")
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`\b(wasm(?:time)?_[a-z0-9_]+)\s*\(`)
	declared := map[string]bool{}
	for _, m := range decl.FindAllSubmatch(upstream, -1) {
		declared[string(m[1])] = true
	}
	names := decl.FindAllStringSubmatch(string(ours), -1)
	if len(names) < 10 {
		t.Fatalf("found only %d declarations in wasmpool.h", len(names))
	}
	for _, m := range names {
		if !declared[m[1]] {
			t.Errorf("%s is declared in wasmpool.h but not by the upstream headers", m[1])
		}
	}
}

// TestExportsMatchCallC checks call.c's declarations of the Go functions
// exported by host.go against the prototypes cgo generates for them: the
// linker does not compare C types, so a Go signature changed without
// call.c would otherwise corrupt memory at run time.
func TestExportsMatchCallC(t *testing.T) {
	compiler := cc(t)
	dir := t.TempDir()
	hdr := filepath.Join(dir, "export.h")
	gen := exec.Command("go", "tool", "cgo", "-objdir", dir, "-exportheader", hdr, "--", "-I", ".", "host.go")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("go tool cgo: %v\n%s", err, out)
	}
	exported, err := os.ReadFile(hdr)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"wasmpoolHostCall", "wasmpoolHostFinalize"} {
		if !strings.Contains(string(exported), name+"(") {
			t.Fatalf("%s is not exported by host.go:\n%s", name, exported)
		}
	}
	src := "#include \"wasmpool.h\"\n#include \"" + hdr + "\"\n#include \"call.c\"\n"
	cmd := exec.Command(compiler, "-fsyntax-only", "-std=gnu17", "-Wall", "-Werror", "-I", ".", "-x", "c", "-")
	cmd.Stdin = strings.NewReader(src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("call.c disagrees with the exported Go functions: %v\n%s", err, out)
	}
}
