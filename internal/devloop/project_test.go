package devloop

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoadSingleFunction: what each kind of function directory becomes.
func TestLoadSingleFunction(t *testing.T) {
	cases := []struct {
		name     string
		files    map[string]string
		language string
		fn       string
		routes   []string
		module   string
		output   bool
	}{
		{"go init", map[string]string{"go.mod": "module hello\nrequire " + sdkModule + " v0.0.0\n", "main.go": "package main",
			"Makefile": "deploy: hello.wasm\n\t$(WEDGE) deploy hello hello.wasm --route '/hi/...'\n"}, "Go", "hello", []string{"/hi/..."}, "hello.wasm", true},
		{"js init", map[string]string{"worker.js": "", "Makefile": "deploy:\n\t$(WEDGE) deploy greet worker.js --route '/greet/...'\n"},
			"JavaScript", "greet", []string{"/greet/..."}, "worker.js", false},
		{"c init", map[string]string{"main.c": "", "Makefile": "hello.wasm: main.c\n\tclang ...\ndeploy: hello.wasm\n\t$(WEDGE) deploy hello hello.wasm --route '/x' --route \"/y/...\"\n"},
			"make", "hello", []string{"/x", "/y/..."}, "hello.wasm", true},
		{"wat", map[string]string{"hello.wat": "(module)"}, "WAT", "dirname", []string{"/dirname/..."}, "hello.wat", false},
		{"js file", map[string]string{"index.mjs": ""}, "JavaScript", "dirname", []string{"/dirname/..."}, "index.mjs", false},
		{"plain go", map[string]string{"go.mod": "module cgi\n", "main.go": "package main"}, "Go", "dirname", []string{"/dirname/..."}, "dirname.wasm", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "dirname")
			writeFiles(t, dir, c.files)
			p, err := Load(dir, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			f := p.Functions[0]
			if f.Language != c.language || f.Name != c.fn || !reflect.DeepEqual(f.Routes, c.routes) || f.Module != filepath.Join(dir, c.module) || (f.Output != "") != c.output {
				t.Fatalf("got %s %s %v module %s output %q", f.Language, f.Name, f.Routes, f.Module, f.Output)
			}
		})
	}
	t.Run("overrides", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "x")
		writeFiles(t, dir, map[string]string{"a.wat": ""})
		p, err := Load(dir, "other", []string{"/o"})
		if err != nil {
			t.Fatal(err)
		}
		if f := p.Functions[0]; f.Name != "other" || !reflect.DeepEqual(f.Routes, []string{"/o"}) {
			t.Fatalf("%s %v", f.Name, f.Routes)
		}
	})
	t.Run("nothing to build", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "x")
		writeFiles(t, dir, map[string]string{"a.wat": "", "b.wat": ""})
		if _, err := Load(dir, "", nil); err == nil || !strings.Contains(err.Error(), "nothing to build") {
			t.Fatalf("two .wat files: %v", err)
		}
	})
	t.Run("bad name", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "Not A Name")
		writeFiles(t, dir, map[string]string{"a.wat": ""})
		if _, err := Load(dir, "", nil); err == nil || !strings.Contains(err.Error(), "--name") {
			t.Fatalf("directory name with spaces: %v", err)
		}
	})
}

// TestClassify: which functions a change concerns.
func TestClassify(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"wedge.toml": `[app]
name = "a"
[functions.one]
module = "one/one.wasm"
build = "make -C one"
routes = ["/one"]
[functions.two]
module = "two/worker.js"
routes = ["/two"]
[functions.top]
module = "top.wasm"
build = "make top.wasm"
routes = ["/top"]
`})
	p, err := Load(dir, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	names := func(c change) []string {
		var out []string
		for n := range c.functions {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	for _, c := range []struct {
		paths []string
		want  []string
	}{
		{[]string{"one/main.go"}, []string{"one", "top"}},
		{[]string{"two/worker.js"}, []string{"top", "two"}},
		{[]string{"one/one.wasm", "top.wasm"}, nil},  // the builds' own outputs
		{[]string{"one/one.wasm-go-tmp-umask"}, nil}, // go build's probe beside its output
		{[]string{"lib/shared.go"}, []string{"one", "top", "two"}},
		{[]string{"README.md"}, []string{"one", "top", "two"}},
	} {
		var abs []string
		for _, p := range c.paths {
			abs = append(abs, filepath.Join(dir, p))
		}
		got := p.classify(abs)
		if !reflect.DeepEqual(names(got), c.want) || got.manifest {
			t.Errorf("%v: %v (manifest %v), want %v", c.paths, names(got), got.manifest, c.want)
		}
	}
	if c := p.classify([]string{filepath.Join(dir, "wedge.toml")}); !c.manifest {
		t.Error("wedge.toml is not a manifest change")
	}
}

// TestWatcherSkips: scratch files and tool directories are not changes.
func TestWatcherSkips(t *testing.T) {
	root := t.TempDir()
	w := &watcher{root: root, skipped: []string{filepath.Join(root, "data")}}
	for path, skip := range map[string]bool{
		"main.go": false, "sub/x.wat": false, "worker.js": false,
		".git/index": true, ".wedge-dev/wedge.db": true, "data/x": true, "node_modules/a/b.js": true,
		"target/wasm32-wasip1/x.wasm": true, ".main.go.swp": true, "main.go~": true, "4913": true, "#x.c#": true,
	} {
		if got := w.skip(filepath.Join(root, path)); got != skip {
			t.Errorf("skip(%s) = %v", path, got)
		}
	}
}

// TestDebouncer: a burst is one batch, due once quiet; a stream of
// events still yields a batch after maxWait.
func TestDebouncer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	d := newDebouncer(30 * time.Millisecond)
	if d.waiting() {
		t.Fatal("waiting before any event")
	}
	d.add("a", t0)
	d.add("b", t0.Add(10*time.Millisecond))
	d.add("a", t0.Add(20*time.Millisecond))
	if w := d.wait(t0.Add(20 * time.Millisecond)); w != 30*time.Millisecond {
		t.Fatalf("wait %v, want 30ms after the last event", w)
	}
	b := d.take()
	paths := b.paths()
	sort.Strings(paths)
	if first, _ := b.first(func(string) bool { return true }); !reflect.DeepEqual(paths, []string{"a", "b"}) || !first.Equal(t0) || d.waiting() {
		t.Fatalf("batch %v first %v", paths, first)
	}
	if first, _ := b.first(func(p string) bool { return p == "b" }); !first.Equal(t0.Add(10 * time.Millisecond)) {
		t.Fatalf("first change of b: %v", first)
	}
	for i := 0; i < 100; i++ { // an event every 10ms: never quiet
		d.add("c", t0.Add(time.Duration(i)*10*time.Millisecond))
	}
	if w := d.wait(t0.Add(990 * time.Millisecond)); w > 0 {
		t.Fatalf("a stream of events is never due: wait %v at 990ms (maxWait %v)", w, d.maxWait)
	}
	// A batch waiting for the loop keeps each path's first change.
	b.merge(batch{"b": t0.Add(time.Second), "x": t0.Add(time.Second)})
	if first, _ := b.first(func(p string) bool { return p != "a" }); len(b) != 3 || !first.Equal(t0.Add(10*time.Millisecond)) {
		t.Fatalf("merge: %v", b)
	}
	if _, ok := b.first(func(string) bool { return false }); ok {
		t.Fatal("first of no path")
	}
}
