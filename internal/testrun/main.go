// Command testrun runs `go test -json` and prints what `go test` prints
// without -v, but as it happens: one closing line per package when that
// package ends ("ok", "FAIL", "?"), the output of a failed test as soon
// as it fails, build errors as they come, and every minute the packages
// still running. Plain `go test ./...` holds each package's lines back
// until every package before it in the list has printed, so a slow early
// package hides all progress for minutes.
//
//	go run ./internal/testrun [-C dir] [go test flags] [packages]
//
// -C runs the tests of the module in dir (go test -C). The exit status is
// go test's, and 1 if a package or test failed even when go test said 0.
// `make test` uses it; see the Makefile.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	args := os.Args[1:]
	goArgs := []string{"test"}
	if len(args) >= 2 && args[0] == "-C" {
		goArgs = append(goArgs, "-C", args[1])
		args = args[2:]
	}
	goArgs = append(goArgs, "-json")
	goArgs = append(goArgs, args...)
	cmd := exec.Command("go", goArgs...)
	cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testrun:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testrun:", err)
		os.Exit(2)
	}
	p := newPrinter(os.Stdout, time.Now)
	stopBeat := p.heartbeat(time.Minute)
	p.read(stdout)
	stopBeat()
	err = cmd.Wait()
	failed := p.summary()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	case err != nil:
		fmt.Fprintln(os.Stderr, "testrun:", err)
		os.Exit(2)
	case failed:
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json), with the build
// events of Go 1.24 and later.
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	Elapsed    float64
	ImportPath string // build-output and build-fail
}

// printer turns events into go test's plain output, streamed.
type printer struct {
	mu      sync.Mutex
	w       io.Writer
	now     func() time.Time
	began   time.Time
	running map[string]time.Time           // package -> start
	output  map[string]map[string][]string // package -> test ("" for the package) -> lines
	failed  []string                       // packages that failed, in order
	passed  int
	header  string // package of the last failed test's output shown
}

func newPrinter(w io.Writer, now func() time.Time) *printer {
	return &printer{w: w, now: now, began: now(), running: map[string]time.Time{}, output: map[string]map[string][]string{}}
}

// read handles every line of r; a line that is not an event is printed
// as it is.
func (p *printer) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			p.mu.Lock()
			fmt.Fprintln(p.w, sc.Text())
			p.mu.Unlock()
			continue
		}
		p.handle(e)
	}
}

func (p *printer) handle(e event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Action {
	case "build-output":
		fmt.Fprint(p.w, e.Output)
	case "start":
		p.running[e.Package] = p.now()
	case "output":
		tests := p.output[e.Package]
		if tests == nil {
			tests = map[string][]string{}
			p.output[e.Package] = tests
		}
		// The === lines are -test.v's (test2json runs tests verbose);
		// go test without -v does not show them.
		if !strings.HasPrefix(e.Output, "=== ") {
			tests[e.Test] = append(tests[e.Test], e.Output)
		}
	case "pass", "skip":
		if e.Test != "" {
			if e.Action == "skip" {
				p.skipped(e.Package, e.Test)
			}
			delete(p.output[e.Package], e.Test)
			return
		}
		// Only the closing line ("ok  \tpkg\t1.2s", "?   \tpkg\t[no test
		// files]"); the rest ("PASS", logs of passed tests) go test
		// without -v does not show either.
		for _, line := range p.output[e.Package][""] {
			if strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "?  ") {
				fmt.Fprint(p.w, line)
			}
		}
		if e.Action == "pass" {
			p.passed++
		}
		p.end(e.Package)
	case "fail":
		if e.Test != "" {
			// Shown at once, not when the package ends, under the
			// package's name: other packages may print in between.
			if p.header != e.Package {
				fmt.Fprintf(p.w, "# %s\n", e.Package)
				p.header = e.Package
			}
			fmt.Fprint(p.w, strings.Join(p.output[e.Package][e.Test], ""))
			delete(p.output[e.Package], e.Test)
			return
		}
		lines := p.output[e.Package][""]
		fmt.Fprint(p.w, strings.Join(lines, ""))
		if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "FAIL") {
			fmt.Fprintf(p.w, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
		}
		p.failed = append(p.failed, e.Package)
		p.end(e.Package)
	}
}

// skipped prints a skipped test with its reason, at once: a test that
// skips for want of a tool (Chromium, a guest toolchain) must say so, or
// a newcomer never learns what the suite did not run. go test without -v
// prints nothing for it.
func (p *printer) skipped(pkg, test string) {
	var reason []string
	for _, l := range p.output[pkg][test] {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--- SKIP") {
			reason = append(reason, l)
		}
	}
	fmt.Fprintf(p.w, "SKIP\t%s\t%s: %s\n", pkg, test, strings.Join(reason, " "))
}

func (p *printer) end(pkg string) {
	p.header = ""
	delete(p.running, pkg)
	delete(p.output, pkg)
}

// heartbeat prints the packages still running every period, until the
// returned function is called.
func (p *printer) heartbeat(period time.Duration) (stop func()) {
	done := make(chan struct{})
	t := time.NewTicker(period)
	go func() {
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.beat()
			}
		}
	}()
	return func() { close(done) }
}

func (p *printer) beat() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.running) == 0 {
		return
	}
	now := p.now()
	var names []string
	for pkg, since := range p.running {
		names = append(names, fmt.Sprintf("%s (%s)", pkg, now.Sub(since).Round(time.Second)))
	}
	slices.Sort(names)
	fmt.Fprintf(p.w, "... %s: still running %s\n", now.Sub(p.began).Round(time.Second), strings.Join(names, ", "))
}

// summary prints the packages that failed and reports whether any did.
func (p *printer) summary() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failed) > 0 {
		fmt.Fprintf(p.w, "FAIL: %d of %d packages failed in %s: %s\n", len(p.failed), len(p.failed)+p.passed,
			p.now().Sub(p.began).Round(time.Second), strings.Join(p.failed, " "))
	}
	return len(p.failed) > 0
}
