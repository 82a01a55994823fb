package readme_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/testutil"
)

// skipMarker before a block keeps the test from running it.
const skipMarker = "<!-- readme-test: skip (long-running) -->"

// block is one ```sh block of the README.
type block struct {
	line int // of the opening fence
	text string
	skip bool
}

// shellBlocks returns README's ```sh blocks in order.
func shellBlocks(readme string) ([]block, error) {
	var out []block
	var cur *block
	lastNonBlank := ""
	for i, l := range strings.Split(readme, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```sh":
			cur = &block{line: i + 1, skip: strings.TrimSpace(lastNonBlank) == skipMarker}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
		if strings.TrimSpace(l) != "" {
			lastNonBlank = l
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("README.md:%d: the ```sh block does not end", cur.line)
	}
	return out, nil
}

func TestShellBlocksParse(t *testing.T) {
	bs, err := shellBlocks("a\n" + skipMarker + "\n\n```sh\nmake run\n```\n```go\nx\n```\n```sh\necho 1\necho 2\n```\n")
	if err != nil || len(bs) != 2 || !bs[0].skip || bs[0].text != "make run\n" || bs[1].skip || bs[1].text != "echo 1\necho 2\n" || bs[1].line != 10 {
		t.Fatalf("%v %+v", err, bs)
	}
	if _, err := shellBlocks("```sh\nx\n"); err == nil {
		t.Fatal("an open block parsed")
	}
}

// copyTree copies the checkout at src to dst, leaving out what a fresh
// clone does not have (.git aside, which the README does not use).
func copyTree(src, dst string) error {
	skip := map[string]bool{".git": true, "bin": true, "wedge-data": true, "wedge-chat": true, "wedge-cluster": true,
		"node_modules": true, filepath.Join("benchmarks", "results"): true}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if skip[rel] || skip[d.Name()] && d.IsDir() {
			if !d.IsDir() {
				return nil // .git is a file in a worktree; SkipDir would skip its siblings
			}
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
}

var portRE = regexp.MustCompile(`127\.0\.0\.1:(\d{4,5})\b`)

// mapPorts gives every 127.0.0.1 port the blocks name a free port.
func mapPorts(t *testing.T, texts ...string) map[string]string {
	m := map[string]string{}
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for _, s := range texts {
		for _, match := range portRE.FindAllStringSubmatch(s, -1) {
			if _, ok := m[match[1]]; ok {
				continue
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, l) // distinct ports: hold them until all are chosen
			_, port, _ := net.SplitHostPort(l.Addr().String())
			m[match[1]] = port
		}
	}
	return m
}

func applyPorts(s string, m map[string]string) string {
	return portRE.ReplaceAllStringFunc(s, func(hp string) string { return "127.0.0.1:" + m[strings.TrimPrefix(hp, "127.0.0.1:")] })
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// killGroup ends a process started with Setpgid and everything it
// started (the README starts nodes in the background).
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// preamble runs before the README's blocks: strict mode, a trace of each
// command, the admin API the README's default ports map to, and a curl
// that fails on an HTTP error (unless the README's own flags say how to
// treat one: -f, -i, -w), so that a request the README expects to work
// must work.
const preamble = `set -euo pipefail
PS4='+ '
curl() {
	local a
	for a in "$@"; do
		case "$a" in --fail* | --include | --write-out) command curl "$@"; return ;; --*) ;; -*[fiw]*) command curl "$@"; return ;; esac
	done
	command curl --fail-with-body "$@"
}
`

// TestReadme runs README.md's shell blocks in order, in one bash session
// in a copy of the checkout, with the node of ` + "`make run`" + ` running, as a
// newcomer following the README would.
func TestReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("the README walk builds the examples and the chat app: not in -short")
	}
	for _, tool := range []string{"bash", "curl", "make", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README needs %s: %v", tool, err)
		}
	}
	root := testutil.RepoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := shellBlocks(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	var run []block
	for _, b := range blocks {
		if !b.skip {
			run = append(run, b)
		}
	}
	if len(run) < 10 {
		t.Fatalf("only %d runnable shell blocks in README.md: the parser or the README changed", len(run))
	}
	// The node of `make run` serves on the default ports.
	texts := []string{"127.0.0.1:8080 127.0.0.1:8081"}
	for _, b := range run {
		texts = append(texts, b.text)
	}
	ports := mapPorts(t, texts...)

	work := filepath.Join(t.TempDir(), "wedge")
	if err := copyTree(root, work); err != nil {
		t.Fatal(err)
	}
	// A few minutes on an idle machine (the node compiles five Go demo
	// functions, the walk builds and deploys the Go, events, fetch and
	// chat examples); far longer on a loaded one.
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	step := func(name string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	// make run: build wedge and the examples, then serve them.
	step("make", "-s", "build", "examples")
	public, admin := "127.0.0.1:"+ports["8080"], "127.0.0.1:"+ports["8081"]
	node := exec.CommandContext(ctx, "bin/wedge", "serve", "--demo", "examples", "--http", public, "--admin", admin)
	node.Dir = work
	node.Env = append(os.Environ(), "WEDGE_ADMIN_TOKEN=", "WEDGE_ADMIN=")
	node.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	nodeOut := &testutil.SyncBuffer{}
	node.Stdout, node.Stderr = nodeOut, nodeOut
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { killGroup(node); node.Wait() }()
	for !strings.Contains(nodeOut.String(), "serving ") {
		if ctx.Err() != nil || node.ProcessState != nil {
			t.Fatalf("the make-run node did not start:\n%s", nodeOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the make-run node serves:\n%s", nodeOut.String())

	var script strings.Builder
	script.WriteString(preamble)
	for i, b := range run {
		fmt.Fprintf(&script, "\nprintf '\\n=== README.md:%d (block %d of %d)\\n' >&2\nset -x\n%s{ set +x; } 2>/dev/null\n", b.line, i+1, len(run), applyPorts(b.text, ports))
	}
	sh := exec.CommandContext(ctx, "bash", "-c", script.String())
	sh.Dir = work
	// A newcomer's shell: no wedge settings of the test's environment;
	// the admin API of the node above is found where the README says.
	sh.Env = append(os.Environ(), "WEDGE_ADMIN_TOKEN=", "WEDGE_ADMIN=http://"+admin, "WEDGE_CLUSTER_KEY=")
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	shOut := &testutil.SyncBuffer{}
	sh.Stdout, sh.Stderr = shOut, shOut
	start := time.Now()
	err = sh.Run()
	killGroup(sh) // whatever the blocks left running in the background
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (timed out)", err)
		}
		t.Fatalf("the README's blocks failed after %v: %v\n--- last lines of the session:\n%s\n--- the make-run node:\n%s",
			time.Since(start).Round(time.Second), err, tail(shOut.String(), 80), tail(nodeOut.String(), 30))
	}
	t.Logf("%d README blocks ran in %v", len(run), time.Since(start).Round(time.Second))
	if p := os.Getenv("WEDGE_README_LOG"); p != "" { // the whole session, to read what a newcomer sees
		if err := os.WriteFile(p, []byte(shOut.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if testing.Verbose() {
		sc := bufio.NewScanner(strings.NewReader(shOut.String()))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "=== README.md:") {
				t.Log(sc.Text())
			}
		}
	}
}
