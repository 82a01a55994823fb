package conformance

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/registry"
	"github.com/wedge-run/wedge/internal/testutil"
	"github.com/wedge-run/wedge/model"
)

// abiFunctions returns the wedge_v1 function names abi/abi.go declares
// (its Fn constants), the source of truth the SDKs must follow.
func abiFunctions(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(testutil.RepoRoot(t), "abi", "abi.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Fn") || len(vs.Values) != 1 {
			return true
		}
		if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
			s, _ := strconv.Unquote(lit.Value)
			names = append(names, s)
		}
		return true
	})
	if len(names) < 14 {
		t.Fatalf("found only %d functions in abi/abi.go: %v", len(names), names)
	}
	return names
}

// TestCHeaderDeclaresTheABI builds a module that imports every function
// wedge.h declares and deploys it: the node refuses an import whose
// signature differs from the host's, so a wrong declaration fails here.
// Every function of abi/abi.go must be declared.
func TestCHeaderDeclaresTheABI(t *testing.T) {
	fns := abiFunctions(t)
	header, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "sdk", "c", "wedge.h"))
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, fn := range fns {
		if !strings.Contains(string(header), "WEDGE_IMPORT("+fn+")") {
			t.Errorf("wedge.h does not declare %s", fn)
		}
		refs = append(refs, "(void *)wedge_v1_"+fn)
	}
	src := fmt.Sprintf(`#include "wedge.h"
static void *volatile all[] = {%s};
WEDGE_EXPORT(wedge_handle) int32_t wedge_handle(int32_t h, int32_t b) { return all[(h + b) %% %d] == 0; }
`, strings.Join(refs, ", "), len(refs))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "all.c"), []byte(src), 0o644)
	testutil.BuildC(t, "sdk/c/examples/hello") // skips or fails without the toolchain
	out := filepath.Join(dir, "all.wasm")
	cmd := exec.Command("clang", "--target=wasm32-wasi", "-mexec-model=reactor", "-O2",
		"-I", filepath.Join(testutil.RepoRoot(t), "sdk", "c"), "-o", out, filepath.Join(dir, "all.c"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, msg)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	n := testutil.StartNode(t, "")
	if _, _, err := n.Registry.Deploy(context.Background(), registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: "c-abi", Routes: []string{"/c-abi"}}, Wasm: wasm}); err != nil {
		t.Fatalf("a module importing all of wedge.h is refused: %v", err)
	}
	if r := testutil.Get(t, n.PublicURL()+"/c-abi"); r.Status != 200 {
		t.Fatalf("%d %q", r.Status, r.Body)
	}
}

// TestRustSysDeclaresTheABI does for the Rust crate's wedge::sys what
// TestCHeaderDeclaresTheABI does for wedge.h.
func TestRustSysDeclaresTheABI(t *testing.T) {
	fns := abiFunctions(t)
	root := testutil.RepoRoot(t)
	sysrs, err := os.ReadFile(filepath.Join(root, "sdk", "rust", "src", "sys.rs"))
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, fn := range fns {
		if !strings.Contains(string(sysrs), "pub fn "+fn+"(") {
			t.Errorf("sys.rs does not declare %s", fn)
		}
		refs = append(refs, "wedge::sys::"+fn+" as usize")
	}
	rust := testutil.RustToolchain(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "Cargo.toml"), []byte(fmt.Sprintf(`[package]
name = "all"
version = "0.1.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
[dependencies]
wedge = { path = %q }
`, filepath.Join(root, "sdk", "rust"))), 0o644)
	os.WriteFile(filepath.Join(dir, "src", "lib.rs"), []byte(fmt.Sprintf(`
#[no_mangle]
pub extern "C" fn wedge_handle(h: i32, b: i32) -> i32 {
    let all: [usize; %d] = [%s];
    (unsafe { core::ptr::read_volatile(&all[((h + b) as usize) %% %d]) } == 0) as i32
}
`, len(refs), strings.Join(refs, ", "), len(refs))), 0o644)
	cmd := exec.Command(rust.Cargo, "build", "--offline", "--release", "--target", rust.Target)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RUSTC="+rust.Rustc)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cargo: %v\n%s", err, msg)
	}
	wasm, err := os.ReadFile(filepath.Join(dir, "target", rust.Target, "release", "all.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	n := testutil.StartNode(t, "")
	if _, _, err := n.Registry.Deploy(context.Background(), registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: "rust-abi", Routes: []string{"/rust-abi"}}, Wasm: wasm}); err != nil {
		t.Fatalf("a module importing all of wedge::sys is refused: %v", err)
	}
	if r := testutil.Get(t, n.PublicURL()+"/rust-abi"); r.Status != 200 {
		t.Fatalf("%d %q", r.Status, r.Body)
	}
}

// TestAssemblyScriptSysDeclaresTheABI does for the AssemblyScript SDK's
// sys.ts what TestCHeaderDeclaresTheABI does for wedge.h.
func TestAssemblyScriptSysDeclaresTheABI(t *testing.T) {
	fns := abiFunctions(t)
	root := testutil.RepoRoot(t)
	sdk := filepath.Join(root, "sdk", "assemblyscript")
	systs, err := os.ReadFile(filepath.Join(sdk, "assembly", "sys.ts"))
	if err != nil {
		t.Fatal(err)
	}
	testutil.BuildAS(t, "sdk/assemblyscript/examples/hello") // skips or fails without the compiler
	// Every import is called once, with zeros, in a branch the test never takes.
	var calls []string
	for _, fn := range fns {
		decl := regexp.MustCompile(`@external\("wedge_v1", "` + fn + `"\)\s*export declare function ` + fn + `\(([^)]*)\)`).FindSubmatch(systs)
		if decl == nil {
			t.Errorf("sys.ts does not declare %s", fn)
			continue
		}
		args := strings.Repeat("0, ", strings.Count(string(decl[1]), ":"))
		calls = append(calls, "sys."+fn+"("+strings.TrimSuffix(args, ", ")+");")
	}
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, filepath.Join(sdk, "assembly", "index")) // asc resolves relative paths only
	if err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`import { sys } from %q;
export function wedge_handle(h: i32, b: i32): i32 {
  if (h == -7 && b == -7) { %s }
  return 0;
}
`, rel, strings.Join(calls, " "))
	os.WriteFile(filepath.Join(dir, "all.ts"), []byte(src), 0o644)
	out := filepath.Join(dir, "all.wasm")
	cmd := exec.Command(filepath.Join(sdk, "node_modules", ".bin", "asc"), "all.ts", "-o", out, "--runtime", "stub",
		"--exportStart", "_initialize", "--use", "abort=")
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("asc: %v\n%s", err, msg)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	n := testutil.StartNode(t, "")
	if _, _, err := n.Registry.Deploy(context.Background(), registry.DeployRequest{FunctionSpec: model.FunctionSpec{Name: "as-abi", Routes: []string{"/as-abi"}}, Wasm: wasm}); err != nil {
		t.Fatalf("a module importing all of sys.ts is refused: %v", err)
	}
	if r := testutil.Get(t, n.PublicURL()+"/as-abi"); r.Status != 200 {
		t.Fatalf("%d %q", r.Status, r.Body)
	}
}
