package wedge

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/abi"
)

// These tests keep the SDK's //go:wasmimport and //go:wasmexport
// declarations of the wasip1 build in step with package abi (the
// dependency-free module github.com/wedge-run/wedge/abi, which the SDK
// imports, so names, codes and encoders have one definition): the WAT
// signature in each function's doc comment is the Go signature's.

var (
	watParam  = regexp.MustCompile(`\(param \$\w+ (i32|i64)\)`)
	watResult = regexp.MustCompile(`\(result (i32|i64)\)`)
)

// watSignature extracts "(i32,i32)->i32" from a WAT func comment.
func watSignature(text string) string {
	var params []string
	for _, m := range watParam.FindAllStringSubmatch(text, -1) {
		params = append(params, m[1])
	}
	res := ""
	if m := watResult.FindStringSubmatch(text); m != nil {
		res = m[1]
	}
	return "(" + strings.Join(params, ",") + ")->" + res
}

type constDecl struct {
	value string // the value expression, formatted
	doc   string
}

// parseConsts returns the top-level constants of the Go files in dir.
func parseConsts(t *testing.T, files ...string) map[string]constDecl {
	t.Helper()
	out := map[string]constDecl{}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, name := range vs.Names {
					var buf bytes.Buffer
					if i < len(vs.Values) {
						format.Node(&buf, fset, vs.Values[i])
					}
					if vs.Type != nil {
						buf.WriteString(" " + types(fset, vs.Type))
					}
					c := constDecl{value: buf.String()}
					if vs.Doc != nil {
						c.doc = vs.Doc.Text()
					}
					out[name.Name] = c
				}
			}
		}
	}
	return out
}

func types(fset *token.FileSet, e ast.Expr) string {
	var buf bytes.Buffer
	format.Node(&buf, fset, e)
	return buf.String()
}

// abiConsts returns the constants of the abi module's package, wherever
// the module graph has it (the replace in go.mod: ../../abi).
func abiConsts(t *testing.T) map[string]constDecl {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "github.com/wedge-run/wedge/abi").Output()
	if err != nil {
		t.Fatalf("go list github.com/wedge-run/wedge/abi: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "*.go"))
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, "_test.go") })
	if len(files) == 0 {
		t.Fatalf("no Go files in the abi package at %s", out)
	}
	return parseConsts(t, files...)
}

// goWasmType is the Wasm type of a //go:wasmimport parameter.
var goWasmType = map[string][]string{
	"string":         {"i32", "i32"},
	"unsafe.Pointer": {"i32"},
	"int32":          {"i32"},
	"uint32":         {"i32"},
	"int64":          {"i64"},
	"uint64":         {"i64"},
}

// directives returns name -> signature for every function in file carrying
// //go:<kind> module name (imports) or //go:<kind> name (exports).
func directives(t *testing.T, file, kind string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Doc == nil {
			continue
		}
		for _, c := range fd.Doc.List {
			fields := strings.Fields(c.Text)
			if len(fields) == 0 || fields[0] != "//go:"+kind {
				continue
			}
			name := strings.Join(fields[1:], " ")
			var params []string
			for _, p := range fd.Type.Params.List {
				wt, ok := goWasmType[types(fset, p.Type)]
				if !ok {
					t.Errorf("%s: parameter type %s", name, types(fset, p.Type))
				}
				for range max(len(p.Names), 1) {
					params = append(params, wt...)
				}
			}
			res := ""
			if r := fd.Type.Results; r != nil {
				res = goWasmType[types(fset, r.List[0].Type)][0]
			}
			out[name] = "(" + strings.Join(params, ",") + ")->" + res
		}
	}
	return out
}

func TestImportsMatchABI(t *testing.T) {
	consts := abiConsts(t)
	imports := directives(t, "host_wasip1.go", "wasmimport")
	want := map[string]string{}
	for name, c := range consts {
		if strings.HasPrefix(name, "Fn") {
			fn := strings.Trim(c.value, `"`)
			want[abi.ImportModule+" "+fn] = watSignature(c.doc)
		}
	}
	for name, sig := range imports {
		w, ok := want[name]
		if !ok {
			t.Errorf("//go:wasmimport %s is not an ABI function", name)
			continue
		}
		if sig != w {
			t.Errorf("//go:wasmimport %s: Go signature %s, ABI %s", name, sig, w)
		}
	}
	for name := range want {
		if _, ok := imports[name]; !ok {
			t.Errorf("ABI function %s has no //go:wasmimport", name)
		}
	}
}

func TestExportMatchesABI(t *testing.T) {
	consts := abiConsts(t)
	exports := directives(t, "export_wasip1.go", "wasmexport")
	// The SDK provides both native entries: HTTP and events.
	want := map[string]string{}
	for _, c := range []string{"ExportHandle", "ExportEvent"} {
		e, ok := consts[c]
		if !ok {
			t.Fatalf("package abi lacks %s", c)
		}
		want[strings.Trim(e.value, `"`)] = watSignature(e.doc)
	}
	for name, sig := range want {
		if got := exports[name]; got != sig {
			t.Errorf("//go:wasmexport %s: Go signature %q, ABI %s", name, got, sig)
		}
	}
	if len(exports) != len(want) {
		t.Errorf("exports %v, want %v", exports, want)
	}
}

func TestImportModuleSpelledOnlyInDirectives(t *testing.T) {
	// The wedge_v1 names appear in the SDK's Go source only in the
	// directives checked above; everything else uses package abi.
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "host_wasip1.go" || f == "export_wasip1.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`"wedge_v1"`)) {
			t.Errorf("%s spells the import module itself; use abi.ImportModule", f)
		}
	}
}
