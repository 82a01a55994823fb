package cli_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/internal/testutil"
)

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
}

// runIn runs the wedge binary in dir (the test's temp dir if empty) with
// env added to a clean WEDGE_* environment.
func runIn(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(wedgeBinary(t), args...)
	if dir == "" {
		dir = t.TempDir()
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WEDGE_ADMIN=", "WEDGE_ADMIN_TOKEN=")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("wedge %v: %v", args, err)
	}
	return r
}

func (r result) want(t *testing.T, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.stdout, r.stderr)
	}
}

// TestCLIConventions: help on stdout with a synopsis naming the
// positional arguments, --version, completion, and exit codes 0 (ok),
// 1 (an error) and 2 (usage: unknown command or flag, wrong arguments).
// Before cobra, help went to stderr, an unknown flag exited 1 and
// --version was unknown.
func TestCLIConventions(t *testing.T) {
	r := runIn(t, "", nil, "deploy", "--help")
	r.want(t, 0, "deploy --help")
	if r.stderr != "" {
		t.Fatalf("help wrote to stderr: %s", r.stderr)
	}
	testutil.Contains(t, r.stdout, "NAME FILE.wasm|FILE.js", "DIR", "--route PATH", "Examples:", "--output")
	for _, args := range [][]string{{"--help"}, {"help"}, {}, {"kv", "put", "--help"}, {"serve", "--help"}} {
		r := runIn(t, "", nil, args...)
		r.want(t, 0, strings.Join(args, " "))
		if r.stdout == "" || r.stderr != "" {
			t.Fatalf("wedge %v: stdout %d bytes, stderr %q", args, len(r.stdout), r.stderr)
		}
	}
	testutil.Contains(t, runIn(t, "", nil, "serve", "--help").stdout, "--http ADDR", "--admin-token TOKEN", "--demo DIR")

	v1, v2 := runIn(t, "", nil, "--version"), runIn(t, "", nil, "version")
	v1.want(t, 0, "--version")
	v2.want(t, 0, "version")
	if !regexp.MustCompile(`^wedge \d+\.\d+\.\d+ \(.*go1\.\d+.*\)\n$`).MatchString(v1.stdout) || v1.stdout != v2.stdout {
		t.Fatalf("--version %q, version %q", v1.stdout, v2.stdout)
	}
	for shell, marker := range map[string]string{"bash": "bash completion", "zsh": "compdef", "fish": "complete -c wedge"} {
		r := runIn(t, "", nil, "completion", shell)
		r.want(t, 0, "completion "+shell)
		testutil.Contains(t, r.stdout, marker)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `wedge: unknown command "bogus"`},
		{[]string{"deploi"}, "did you mean deploy?"},
		{[]string{"kv", "bogus"}, `wedge kv: unknown command "bogus"`},
		{[]string{"ls", "--bogus"}, "wedge ls: unknown flag: --bogus"},
		{[]string{"rm"}, "wedge rm: want 1 argument(s), got none; usage: wedge rm NAME"},
		{[]string{"kv", "put", "ns", "key"}, "usage: wedge kv put NAMESPACE KEY VALUE|@FILE|-"},
		{[]string{"deploy", "a", "b", "c"}, "wedge deploy: want 0 to 2 argument(s)"},
		{[]string{"ls", "-o", "yaml"}, `--output "yaml": want text or json`},
		{[]string{"serve", "--log-level", "loud"}, "wedge serve: --log-level"},
	} {
		r := runIn(t, "", nil, tc.args...)
		r.want(t, 2, strings.Join(tc.args, " "))
		testutil.Contains(t, r.stderr+r.stdout, tc.want)
		testutil.Contains(t, r.stderr, "--help' for usage")
	}
	// An error that is not about usage: 1, one line naming the cause.
	r = runIn(t, "", []string{"WEDGE_ADMIN_TOKEN=x"}, "deploy", "x", "missing.wasm", "--route", "/x")
	r.want(t, 1, "deploy of a missing file")
	testutil.Contains(t, r.stderr, "wedge deploy: open missing.wasm: no such file")
}

// TestCLIErrorsSayWhatToDo: a refused token names where it came from
// (--token, WEDGE_ADMIN_TOKEN or the file found) and what to do; no node
// at the address says how to start or find one.
func TestCLIErrorsSayWhatToDo(t *testing.T) {
	d := serve(t, t.TempDir())
	work := t.TempDir()
	os.MkdirAll(filepath.Join(work, "wedge-data"), 0o755)
	os.WriteFile(filepath.Join(work, "wedge-data", "admin-token"), []byte("stale\n"), 0o600)
	sub := filepath.Join(work, "fn")
	os.MkdirAll(sub, 0o755)
	for _, tc := range []struct {
		dir    string
		env    []string
		args   []string
		source string
	}{
		{work, []string{"WEDGE_ADMIN=" + d.admin}, nil, "./wedge-data/admin-token"},
		{sub, []string{"WEDGE_ADMIN=" + d.admin}, nil, "../wedge-data/admin-token"},
		{work, []string{"WEDGE_ADMIN=" + d.admin, "WEDGE_ADMIN_TOKEN=wrong"}, nil, "WEDGE_ADMIN_TOKEN"},
		{work, []string{"WEDGE_ADMIN_TOKEN=wrong"}, []string{"--admin", d.admin, "--token", "wrong"}, "--token"},
	} {
		r := runIn(t, tc.dir, tc.env, append([]string{"ls"}, tc.args...)...)
		r.want(t, 1, "ls with a wrong token from "+tc.source)
		want := "wedge ls: 401: the token from " + tc.source + " was refused by " + d.admin + "; pass --token or set WEDGE_ADMIN_TOKEN\n"
		if r.stderr != want {
			t.Fatalf("stderr:\n%q\nwant\n%q", r.stderr, want)
		}
	}
	r := runIn(t, work, []string{"WEDGE_ADMIN=http://" + freePort(t)}, "ls")
	r.want(t, 1, "ls with no node")
	testutil.Contains(t, r.stderr, "no node answers at http://", "(from WEDGE_ADMIN)", "start one with `wedge serve`")
}

// TestCLIOutputJSON: every listing command prints JSON that parses with
// -o json (logs: one object per line); function names complete.
func TestCLIOutputJSON(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data)
	token, _ := os.ReadFile(filepath.Join(data, "admin-token"))
	env := []string{"WEDGE_ADMIN=" + d.admin, "WEDGE_ADMIN_TOKEN=" + strings.TrimSpace(string(token))}
	wasm := filepath.Join(t.TempDir(), "log.wasm")
	os.WriteFile(wasm, testutil.WAT(t, `(module
	  (import "wasi_snapshot_preview1" "fd_write" (func $fdw (param i32 i32 i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (data (i32.const 0) "\10\00\00\00\04\00\00\00")
	  (data (i32.const 16) "hey\0a")
	  (func (export "wedge_handle") (param i32 i32) (result i32)
	    (drop (call $fdw (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))) (i32.const 0)))`), 0o644)
	r := runIn(t, "", env, "deploy", "logger", wasm, "--route", "/log", "-o", "json")
	r.want(t, 0, "deploy -o json")
	var fn struct {
		Name    string `json:"name"`
		Version int64  `json:"version"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &fn); err != nil || fn.Name != "logger" || fn.Version != 1 {
		t.Fatalf("deploy -o json: %v %+v\n%s", err, fn, r.stdout)
	}
	testutil.Get(t, d.public+"/log")
	runIn(t, "", env, "kv", "put", "app", "k", "v").want(t, 0, "kv put")

	for _, tc := range []struct {
		args []string
		into any
		ok   func() bool
	}{
		{[]string{"ls"}, &[]struct{ Name string }{}, nil},
		{[]string{"kv", "ls"}, &[]struct{ Name string }{}, nil},
		{[]string{"kv", "ls", "app"}, &[]struct{ Key string }{}, nil},
		{[]string{"nodes"}, &[]struct{ Name, State string }{}, nil},
	} {
		r := runIn(t, "", env, append(tc.args, "-o", "json")...)
		r.want(t, 0, strings.Join(tc.args, " "))
		if err := json.Unmarshal([]byte(r.stdout), tc.into); err != nil {
			t.Fatalf("wedge %v -o json: %v\n%s", tc.args, err, r.stdout)
		}
	}
	var fns []struct{ Name string }
	json.Unmarshal([]byte(runIn(t, "", env, "ls", "-o", "json").stdout), &fns)
	var keys []struct{ Key string }
	json.Unmarshal([]byte(runIn(t, "", env, "kv", "ls", "app", "--output", "json").stdout), &keys)
	if len(fns) != 1 || fns[0].Name != "logger" || len(keys) != 1 || keys[0].Key != "k" {
		t.Fatalf("functions %+v, keys %+v", fns, keys)
	}
	// Completion of a function's name asks the node.
	r = runIn(t, "", env, "__complete", "logs", "")
	r.want(t, 0, "__complete logs")
	testutil.Contains(t, r.stdout, "logger\t/log")
	r = runIn(t, "", env, "logs", "logger", "-o", "json")
	r.want(t, 0, "logs -o json")
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	lines := 0
	for sc.Scan() {
		var l struct{ Message, RequestID string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("logs -o json line %q: %v", sc.Text(), err)
		}
		if strings.Contains(l.Message, "hey") {
			lines++
		}
	}
	if lines != 1 {
		t.Fatalf("logs -o json: %d lines with the message\n%s", lines, r.stdout)
	}
}
