package cli_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/testutil"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// wedgeBinary builds cmd/wedge once per test run.
func wedgeBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wedge-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "wedge")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/wedge")
		cmd.Dir = testutil.RepoRoot(t)
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building wedge: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// daemon is a running `wedge serve`.
type daemon struct {
	cmd           *exec.Cmd
	public, admin string
	out           *bytes.Buffer
	mu            *sync.Mutex
}

var addrRE = regexp.MustCompile(`(public gateway|admin API)\s+(http://\S+)`)

func serve(t *testing.T, dataDir string, extra ...string) *daemon {
	t.Helper()
	args := append([]string{"serve", "--http", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--data", dataDir}, extra...)
	cmd := exec.Command(wedgeBinary(t), args...)
	cmd.Env = append(os.Environ(), "WEDGE_ADMIN_TOKEN=")
	cmd.Stderr = os.Stderr
	return startDaemon(t, cmd)
}

// startDaemon starts cmd, a `wedge serve`, and waits until it serves,
// reading its addresses from what it prints.
func startDaemon(t *testing.T, cmd *exec.Cmd) *daemon {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, out: &bytes.Buffer{}, mu: &sync.Mutex{}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.out.WriteString(line + "\n")
			if m := addrRE.FindStringSubmatch(line); m != nil {
				if m[1] == "public gateway" {
					d.public = m[2]
				} else {
					d.admin = m[2]
				}
			}
			d.mu.Unlock()
			if strings.HasPrefix(line, "serving ") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		d.mu.Lock()
		defer d.mu.Unlock()
		t.Fatalf("%s did not start:\n%s", strings.Join(cmd.Args, " "), d.out)
	}
	return d
}

func (d *daemon) stop(t *testing.T) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("node exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("node did not stop on SIGTERM")
	}
}

// wedge runs a client command against d and returns its output.
func wedge(t *testing.T, d *daemon, token string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(wedgeBinary(t), args...)
	cmd.Env = append(os.Environ(), "WEDGE_ADMIN="+d.admin, "WEDGE_ADMIN_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestBinaryEndToEnd(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data)
	tokenBytes, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatalf("no generated token: %v", err)
	}
	token := strings.TrimSpace(string(tokenBytes))
	testutil.Contains(t, d.out.String(), "admin token     stored in "+filepath.Join(data, "admin-token"))

	dir := t.TempDir()
	hello := filepath.Join(dir, "hello.wasm")
	os.WriteFile(hello, testutil.WAT(t, `(module
	  (import "wedge_v1" "response_write" (func $w (param i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "fd_write" (func $fdw (param i32 i32 i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (data (i32.const 0) "hi from the binary")
	  (data (i32.const 32) "\00\00\00\00\09\00\00\00")
	  (data (i32.const 48) "logged!\0a")
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (i32.store (i32.const 32) (i32.const 48))
	    (drop (call $fdw (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 40)))
	    (drop (call $w (i32.const 0) (i32.const 18))) (i32.const 0)))`), 0o644)

	out, err := wedge(t, d, token, "deploy", "hello", hello, "--route", "/hello", "--route", "/hi/...")
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	testutil.Contains(t, out, "created hello version 1", "route /hello", "route /hi/...")
	r := testutil.Get(t, d.public+"/hi/there")
	if r.Status != 200 || r.Body != "hi from the binary" {
		t.Fatalf("%+v", r)
	}
	out, err = wedge(t, d, token, "ls")
	if err != nil {
		t.Fatal(err, out)
	}
	testutil.Contains(t, out, "NAME", "hello", "native", "/hello /hi/...")
	// Affinity is accepted and reported (it only matters in a cluster);
	// a pattern no route serves is refused with the reason.
	if out, err := wedge(t, d, token, "deploy", "keyed", hello, "--route", "/k/...", "--affinity", "/k/*"); err != nil {
		t.Fatalf("deploy with --affinity: %v\n%s", err, out)
	}
	fn := testutil.Do(t, "GET", d.admin+"/v1/functions/keyed", nil, map[string]string{"Authorization": "Bearer " + token})
	testutil.Contains(t, fn.Body, `"affinity": "/k/*"`)
	if out, err := wedge(t, d, token, "deploy", "bad", hello, "--route", "/b/...", "--affinity", "/c/*"); err == nil ||
		!strings.Contains(out, "none of the function's routes serves /c/key") {
		t.Fatalf("deploy with a foreign affinity: %v\n%s", err, out)
	}
	out, err = wedge(t, d, token, "logs", "hello")
	if err != nil {
		t.Fatal(err, out)
	}
	testutil.Contains(t, out, "stdout", "logged!")

	// A wrong token is refused and changes nothing.
	out, err = wedge(t, d, "wrong", "rm", "hello")
	if err == nil || !strings.Contains(out, "token") {
		t.Fatalf("rm with a wrong token: %v %s", err, out)
	}
	// Restart on the same data dir: the function is still served.
	d.stop(t)
	d = serve(t, data)
	if r := testutil.Get(t, d.public+"/hello"); r.Status != 200 || r.Body != "hi from the binary" {
		t.Fatalf("after restart: %+v", r)
	}
	out, err = wedge(t, d, token, "rm", "hello")
	if err != nil {
		t.Fatal(err, out)
	}
	if r := testutil.Get(t, d.public+"/hello"); r.Status != 404 {
		t.Fatalf("after rm: %+v", r)
	}
	// The key-value store through the CLI.
	if out, err := wedge(t, d, token, "kv", "put", "app", "greeting", "hello there"); err != nil || !strings.Contains(out, "version") {
		t.Fatalf("kv put: %v %s", err, out)
	}
	valueFile := filepath.Join(dir, "value.txt")
	os.WriteFile(valueFile, []byte("from a file"), 0o644)
	if out, err := wedge(t, d, token, "kv", "put", "app", "file", "@"+valueFile, "--ttl", "1h"); err != nil {
		t.Fatalf("kv put @file: %v %s", err, out)
	}
	if out, err := wedge(t, d, token, "kv", "get", "app", "file"); err != nil || out != "from a file" {
		t.Fatalf("kv get: %v %q", err, out)
	}
	if out, err := wedge(t, d, token, "kv", "ls", "app"); err != nil || !strings.Contains(out, "greeting") || !strings.Contains(out, "file") {
		t.Fatalf("kv ls: %v %s", err, out)
	}
	if out, err := wedge(t, d, token, "kv", "ls"); err != nil || !strings.Contains(out, "app") {
		t.Fatalf("kv ls namespaces: %v %s", err, out)
	}
	if out, err := wedge(t, d, token, "kv", "rm", "app", "greeting"); err != nil {
		t.Fatalf("kv rm: %v %s", err, out)
	}
	if out, err := wedge(t, d, token, "kv", "get", "app", "greeting"); err == nil || !strings.Contains(out, "not found") {
		t.Fatalf("kv get after rm: %v %s", err, out)
	}
	// Bad input through the CLI: a clear message and a non-zero exit.
	bad := filepath.Join(dir, "bad.wasm")
	os.WriteFile(bad, []byte("garbage"), 0o644)
	out, err = wedge(t, d, token, "deploy", "bad", bad, "--route", "/bad")
	if err == nil || !strings.Contains(out, "invalid module") {
		t.Fatalf("bad deploy: %v %s", err, out)
	}
}

func TestServeDemo(t *testing.T) {
	d := serve(t, t.TempDir(), "--demo", "embedded")
	if r := testutil.Get(t, d.public+"/hello"); r.Status != 200 || !strings.Contains(r.Body, "hello from wedge") {
		t.Fatalf("%+v", r)
	}
}

func TestInitBuildDeploy(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	d, run := scaffoldNode(t)
	work := t.TempDir()
	out := run(work, wedgeBinary(t), "init", "--lang", "go", "--sdk", filepath.Join(testutil.RepoRoot(t), "sdk", "go"), "hello")
	testutil.Contains(t, out, "created hello/")
	run(filepath.Join(work, "hello"), "make")
	out = run(filepath.Join(work, "hello"), "make", "deploy")
	testutil.Contains(t, out, "created hello version 1")
	r := testutil.Get(t, d.public+"/hello?name=newcomer")
	if r.Status != 200 || r.Body != "hello, newcomer, from hello\n" {
		t.Fatalf("%+v", r)
	}
}

// output is what the node printed on stdout so far.
func (d *daemon) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// scaffoldNode starts a node for the init scaffold tests and returns it
// with run, which runs a command in dir the way a user would after
// `wedge init`: with the node's admin API and token, and WEDGE naming the
// binary, in the environment; a failing command fails the test.
func scaffoldNode(t *testing.T) (*daemon, func(dir, name string, args ...string) string) {
	t.Helper()
	data := t.TempDir()
	d := serve(t, data)
	token, _ := os.ReadFile(filepath.Join(data, "admin-token"))
	run := func(dir, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "WEDGE_ADMIN="+d.admin, "WEDGE_ADMIN_TOKEN="+strings.TrimSpace(string(token)), "WEDGE="+wedgeBinary(t))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	return d, run
}
