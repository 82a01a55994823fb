package manifest_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/manifest"
)

const twoFunctions = `[app]
name = "pair"

[functions.built]
module = "out/built.wasm"
build = "mkdir -p out && printf '\\000asm\\001\\000\\000\\000' > out/built.wasm"
routes = ["/built"]

[functions.plain]
module = "plain.wasm"
routes = ["/plain"]
`

func writeManifest(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, manifest.FileName), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoad(t *testing.T) {
	dir := writeManifest(t, twoFunctions)
	for _, p := range []string{dir, filepath.Join(dir, "wedge.toml")} {
		app, err := manifest.Load(p)
		if err != nil {
			t.Fatalf("Load(%s): %v", p, err)
		}
		if app.Dir != dir || app.File != filepath.Join(dir, "wedge.toml") {
			t.Errorf("Dir, File = %q, %q", app.Dir, app.File)
		}
		if len(app.Functions) != 2 || app.Functions[0].Name != "built" {
			t.Errorf("functions = %+v", app.Functions)
		}
		// Module files need not exist to load.
		if _, err := os.Stat(app.ModulePath(&app.Functions[0])); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("module exists already? %v", err)
		}
	}

	_, err := manifest.Load(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v", err)
	}
	var list *manifest.ErrorList
	if errors.As(err, &list) {
		t.Error("a missing file is not a validation error")
	}

	// Errors name the path given.
	bad := writeManifest(t, "[app]\nname = \"x\"\n")
	_, err = manifest.Load(bad)
	if want := filepath.Join(bad, "wedge.toml") + ": functions: the app declares no functions"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load(bad) = %v", err)
	}

	big := writeManifest(t, "# "+strings.Repeat("x", manifest.MaxFileSize))
	if _, err := manifest.Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(big) = %v", err)
	}
}

func TestCheckAndBuild(t *testing.T) {
	dir := writeManifest(t, twoFunctions)
	app, err := manifest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = app.Check()
	want := filepath.Join(dir, "wedge.toml") + ":5: functions.built.module: module file " + filepath.Join(dir, "out/built.wasm") +
		" does not exist (is there a build step to run first?)\n" +
		filepath.Join(dir, "wedge.toml") + ":10: functions.plain.module: module file " + filepath.Join(dir, "plain.wasm") +
		" does not exist (is there a build step to run first?)"
	if err == nil || err.Error() != want {
		t.Fatalf("Check:\n%v\nwant:\n%s", err, want)
	}
	if !errors.Is(err, manifest.ErrModule) {
		t.Error("Check error does not wrap ErrModule")
	}

	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to run build commands")
	}
	built, _ := app.Function("built")
	cmd := app.BuildCommand(context.Background(), built)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	plain, _ := app.Function("plain")
	if app.BuildCommand(context.Background(), plain) != nil {
		t.Error("BuildCommand without build")
	}
	if err := os.WriteFile(app.ModulePath(plain), []byte("not wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = app.Check()
	if err == nil || strings.Contains(err.Error(), "functions.built") || !strings.Contains(err.Error(), "functions.plain.module: module file "+app.ModulePath(plain)+" is not a WebAssembly binary") {
		t.Fatalf("Check after build: %v", err)
	}
	if err := os.WriteFile(app.ModulePath(plain), []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := app.Check(); err != nil {
		t.Fatalf("Check with both modules: %v", err)
	}
}

func TestSizeLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("[app]\nname = \"big\"\n")
	for i := 0; i < 150; i++ {
		fmt.Fprintf(&b, "unknown_%d = 1\n", i)
	}
	_, err := manifest.Parse("wedge.toml", []byte(b.String()))
	list := asList(t, err)
	// The missing functions (no line: first), 100 unknown fields, their count.
	if len(list.Errors) != 102 {
		t.Fatalf("%d errors", len(list.Errors))
	}
	if got, want := list.Errors[1].Error(), "wedge.toml:3: app.unknown_0: unknown field; known fields here: kv_namespace, name"; got != want {
		t.Errorf("first: %s, want %s", got, want)
	}
	if got, want := list.Errors[101].Error(), "wedge.toml:103: app.unknown_100: and 50 more unknown fields"; got != want {
		t.Errorf("last: %s, want %s", got, want)
	}

	b.Reset()
	b.WriteString("[app]\nname = \"big\"\n[functions.f]\nmodule = \"f.wasm\"\nroutes = [\n")
	for i := 0; i < manifest.MaxFields; i++ {
		fmt.Fprintf(&b, "  \"/r%d\",\n", i)
	}
	b.WriteString("]\n")
	_, err = manifest.Parse("wedge.toml", []byte(b.String()))
	if err == nil || err.Error() != fmt.Sprintf("wedge.toml: more than %d keys and values", manifest.MaxFields) {
		t.Errorf("too many fields: %v", err)
	}
}

// TestCheckRefusesModulesOutsideTheDirectory: a module path that stays
// inside the manifest's directory by its name but leaves it through a
// symbolic link (a link to a file outside, or a linked directory) is
// refused by Check with a file:line: field: error, and nothing outside is
// read; links that stay inside, and a manifest directory reached through
// a link, are fine.
func TestCheckRefusesModulesOutsideTheDirectory(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(root, "x")
	dir := filepath.Join(root, "app")
	for _, d := range []string{outside, filepath.Join(dir, "real")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	wasm := []byte("\x00asm\x01\x00\x00\x00")
	for _, f := range []string{filepath.Join(outside, "counter.wasm"), filepath.Join(dir, "real", "ok.wasm")} {
		if err := os.WriteFile(f, wasm, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		filepath.Join(dir, "link.wasm"):   filepath.Join("..", "x", "counter.wasm"), // a file outside
		filepath.Join(dir, "mods"):        outside,                                  // a directory outside
		filepath.Join(dir, "inside.wasm"): filepath.Join("real", "ok.wasm"),         // stays inside
		filepath.Join(root, "via"):        dir,                                      // the manifest's directory itself
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
	}
	src := `[app]
name = "links"

[functions.file]
module = "link.wasm"
routes = ["/file"]

[functions.dir]
module = "mods/counter.wasm"
routes = ["/dir"]

[functions.fine]
module = "inside.wasm"
routes = ["/fine"]
`
	if err := os.WriteFile(filepath.Join(dir, "wedge.toml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	outside, _ = filepath.EvalSymlinks(outside) // as Check reports it
	for _, base := range []string{dir, filepath.Join(root, "via")} {
		app, err := manifest.Load(base)
		if err != nil {
			t.Fatal(err)
		}
		err = app.Check()
		if !errors.Is(err, manifest.ErrModule) {
			t.Fatalf("Check = %v, want ErrModule", err)
		}
		list := asList(t, err)
		file := filepath.Join(base, "wedge.toml")
		want := []string{
			file + ":5: functions.file.module: module file " + filepath.Join(app.Dir, "link.wasm") + " resolves to " + filepath.Join(outside, "counter.wasm") + ", outside the manifest's directory",
			file + ":9: functions.dir.module: module file " + filepath.Join(app.Dir, "mods", "counter.wasm") + " resolves to " + filepath.Join(outside, "counter.wasm") + ", outside the manifest's directory",
		}
		if len(list.Errors) != len(want) {
			t.Fatalf("Check from %s:\n%v\nwant:\n%s", base, err, strings.Join(want, "\n"))
		}
		for i, e := range list.Errors {
			if e.Error() != want[i] {
				t.Errorf("Check from %s:\n%s\nwant:\n%s", base, e, want[i])
			}
		}
	}
}
