package cli_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/cli"
	"github.com/wedge-run/wedge/internal/devloop"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestDevLoadsInitScaffolds: wedge dev reads the directories wedge init
// writes as the function init meant, name and routes included.
func TestDevLoadsInitScaffolds(t *testing.T) {
	root := testutil.RepoRoot(t)
	sdk := map[string]string{"go": "go", "c": "c", "rust": "rust", "as": "assemblyscript", "js": ""}
	language := map[string]string{"go": "Go", "c": "make", "rust": "make", "as": "make", "js": "JavaScript"}
	module := map[string]string{"js": "worker.js"}
	for lang, sub := range sdk {
		t.Run(lang, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "fn-"+lang)
			var out, errb bytes.Buffer
			args := []string{"init", "--lang", lang, "--route", "/custom/...", dir}
			if sub != "" {
				args = append(args, "--sdk", filepath.Join(root, "sdk", sub))
			}
			if code := cli.Run(args, nil, &out, &errb); code != 0 {
				t.Fatalf("init: %d\n%s%s", code, out.String(), errb.String())
			}
			p, err := devloop.Load(dir, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			f := p.Functions[0]
			mod := module[lang]
			if mod == "" {
				mod = "fn-" + lang + ".wasm"
			}
			if f.Name != "fn-"+lang || !reflect.DeepEqual(f.Routes, []string{"/custom/..."}) || f.Language != language[lang] || f.Module != filepath.Join(dir, mod) {
				t.Fatalf("%s: name %s routes %v language %s module %s", lang, f.Name, f.Routes, f.Language, f.Module)
			}
		})
	}
}

// TestDevGoFunction runs the wedge binary as a user does: wedge init
// --lang go, wedge dev in the new directory; an edit of main.go is
// rebuilt (GOOS=wasip1) and redeployed, the new text answers; Ctrl-C
// (SIGINT) ends wedge dev with status 0 and stops the node it started.
func TestDevGoFunction(t *testing.T) {
	work := t.TempDir()
	bin := wedgeBinary(t)
	initCmd := exec.Command(bin, "init", "--lang", "go", "--sdk", filepath.Join(testutil.RepoRoot(t), "sdk", "go"), "hello")
	initCmd.Dir = work
	if out, err := initCmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	dir := filepath.Join(work, "hello")
	cmd := exec.Command(bin, "dev")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WEDGE_ADMIN=", "WEDGE_ADMIN_TOKEN=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	printed := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
	defer func() {
		if t.Failed() {
			t.Logf("wedge dev printed:\n%s", printed())
		}
	}()
	var public string
	testutil.Eventually(t, time.Minute, "wedge dev prints its node", func() bool {
		m := regexp.MustCompile(`(?m)^  public\s+(http://\S+)`).FindStringSubmatch(printed())
		if m != nil {
			public = m[1]
		}
		return m != nil
	})
	get := func() string {
		resp, err := http.Get(public + "/hello?name=dev")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// A Go module is compiled twice at deploy (to run its initializer,
	// then the snapshot): minutes on a loaded machine.
	testutil.Eventually(t, 10*time.Minute, "the first version answers", func() bool { return get() == "hello, dev, from hello\n" })

	src := filepath.Join(dir, "main.go")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), `"hello, %s, from`, `"howdy, %s, from`, 1)
	if edited == string(b) {
		t.Fatal("the scaffold's greeting changed: update this test")
	}
	saved := time.Now()
	if err := os.WriteFile(src, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Minute, "the edited version answers", func() bool { return get() == "howdy, dev, from hello\n" })
	took := time.Since(saved)
	testutil.Eventually(t, time.Minute, "the loop's report", func() bool { return strings.Contains(printed(), "redeployed hello in ") })
	t.Logf("Go: save to new answer %v; the loop printed %q", took, regexp.MustCompile(`redeployed hello in .*`).FindString(printed()))
	testutil.Contains(t, printed(), "function hello (Go, GOOS=wasip1 go build -buildmode=c-shared)", "hello | ", "greeting")
	// What go build writes is no change of the sources: one build per edit.
	if n := strings.Count(printed(), "building hello:"); n != 2 || strings.Contains(printed(), "unchanged") {
		t.Fatalf("%d builds for one edit (a build's own files taken for a change?)", n)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wedge dev after Ctrl-C: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("wedge dev did not stop on Ctrl-C")
	}
	if r := get(); r != "" {
		t.Fatalf("the node wedge dev started still answers after Ctrl-C: %q", r)
	}
}
