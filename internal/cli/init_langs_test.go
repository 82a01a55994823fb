package cli_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/testutil"
)

// TestInitBuildDeployOtherLanguages is TestInitBuildDeploy for the Rust
// and C scaffolds: wedge init, make, make deploy, and the function serves,
// with its counter in the key-value store.
func TestInitBuildDeployOtherLanguages(t *testing.T) {
	sdkDir := map[string]string{"c": "c", "rust": "rust", "as": "assemblyscript"}
	for _, lang := range []string{"c", "rust", "as"} {
		t.Run(lang, func(t *testing.T) {
			var makeVars []string
			switch lang {
			case "c":
				testutil.RequireC(t)
			case "as":
				testutil.RequireAS(t)
			default:
				r := testutil.RustToolchain(t)
				makeVars = []string{"CARGO=" + r.Cargo, "RUSTC=" + r.Rustc, "TARGET=" + r.Target}
			}
			d, run := scaffoldNode(t)
			work := t.TempDir()
			fn := "hi-" + lang
			out := run(work, wedgeBinary(t), "init", "--lang", lang, "--sdk", filepath.Join(testutil.RepoRoot(t), "sdk", sdkDir[lang]), fn)
			testutil.Contains(t, out, "created "+fn+"/")
			run(filepath.Join(work, fn), "make", makeVars...)
			out = run(filepath.Join(work, fn), "make", append([]string{"deploy"}, makeVars...)...)
			testutil.Contains(t, out, "created "+fn+" version 1")
			if r := testutil.Get(t, d.public+"/"+fn+"?name=newcomer"); r.Status != 200 || r.Body != "hello, newcomer, from "+fn+"\n" {
				t.Fatalf("%+v", r)
			}
			for _, want := range []string{`{"visits":1}`, `{"visits":2}`} {
				if r := testutil.Get(t, d.public+"/"+fn+"/count"); r.Status != 200 || strings.TrimSpace(r.Body) != want {
					t.Fatalf("count: %d %q, want %s", r.Status, r.Body, want)
				}
			}
		})
	}
}

func TestInitUnknownLanguage(t *testing.T) {
	out, err := exec.Command(wedgeBinary(t), "init", "--lang", "cobol", filepath.Join(t.TempDir(), "x")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "init knows go, rust, c, as and js") {
		t.Fatalf("%v: %s", err, out)
	}
	out, err = exec.Command(wedgeBinary(t), "init", "--lang", "c", "--sdk", t.TempDir(), filepath.Join(t.TempDir(), "x")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not the C SDK") {
		t.Fatalf("%v: %s", err, out)
	}
}
