package suite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wedge-run/wedge/benchmarks/loadgen"
)

// Errors of child processes.
var (
	// ErrExited is returned when a process ended before printing what
	// was waited for.
	ErrExited = errors.New("suite: process exited")
	// ErrNotReady is returned when a process did not become ready in time.
	ErrNotReady = errors.New("suite: process not ready in time")
)

// stopGrace is how long a process may take to exit after SIGTERM.
const stopGrace = 10 * time.Second

// process is a child process whose stdout is read line by line (with the
// time each line arrived) and whose stderr tail is kept for error messages.
type process struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	stderr  *tailBuffer

	mu      sync.Mutex
	lines   []string
	at      []time.Time
	eof     bool
	changed chan struct{} // closed and replaced on every new line and at EOF
	exited  chan struct{} // closed after Wait returned
	waitErr error
}

// spawn starts argv as a server process: pinned to the server CPUs when
// pinning is on. extraEnv is added to the environment.
func (e *Env) spawn(ctx context.Context, name string, argv []string, extraEnv []string, dir string) (*process, error) {
	e.applyPin()
	cmd, err := e.command(ctx, e.serverCPUs, argv...)
	if err != nil {
		e.pinProblem(fmt.Sprintf("%s ran unpinned: %v", name, err))
	}
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Dir = dir
	cmd.WaitDelay = stopGrace
	dieWithParent(cmd)
	p := &process{name: name, cmd: cmd, stderr: &tailBuffer{max: 8 << 10}, changed: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go p.read(out)
	e.addCleanup(func() { p.stop() })
	return p, nil
}

// command builds a command on cpus (unpinned when cpus is nil). The
// command is never nil; the error says why pinning was not possible.
func (e *Env) command(ctx context.Context, cpus []int, argv ...string) (*exec.Cmd, error) {
	if cpus == nil {
		return exec.CommandContext(ctx, argv[0], argv[1:]...), nil
	}
	return loadgen.PinnedCommand(ctx, cpus, argv[0], argv[1:]...)
}

func (p *process) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		p.at = append(p.at, time.Now())
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
	// Drain whatever is left so the child never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, r)
	p.mu.Lock()
	p.eof = true
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	err := p.cmd.Wait()
	p.mu.Lock()
	p.waitErr = err
	p.mu.Unlock()
	close(p.exited)
}

// waitLine waits for a stdout line matching re, looking at lines from
// index *from on and advancing it past the match. It returns the
// submatches and the time the line arrived.
func (p *process) waitLine(ctx context.Context, re *regexp.Regexp, from *int, timeout time.Duration) ([]string, time.Time, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for ; *from < len(p.lines); *from++ {
			if m := re.FindStringSubmatch(p.lines[*from]); m != nil {
				at := p.at[*from]
				*from++
				p.mu.Unlock()
				return m, at, nil
			}
		}
		eof, changed := p.eof, p.changed
		p.mu.Unlock()
		if eof {
			<-p.exited
			return nil, time.Time{}, fmt.Errorf("%w: %s (%v) before printing %q%s", ErrExited, p.name, p.exitErr(), re, p.stderrTail())
		}
		select {
		case <-changed:
		case <-deadline.C:
			return nil, time.Time{}, fmt.Errorf("%w: %s did not print %q within %v%s", ErrNotReady, p.name, re, timeout, p.stderrTail())
		case <-ctx.Done():
			return nil, time.Time{}, context.Cause(ctx)
		}
	}
}

func (p *process) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waitErr == nil {
		return errors.New("exit status 0")
	}
	return p.waitErr
}

func (p *process) stderrTail() string {
	s := strings.TrimSpace(p.stderr.String())
	if s == "" {
		return ""
	}
	return "; stderr: " + s
}

// alive reports whether the process is still running.
func (p *process) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop asks the process to exit with SIGTERM and kills it after
// stopGrace. It is safe to call more than once.
func (p *process) stop() error {
	if !p.alive() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not exit within %v of SIGTERM; killed", p.name, stopGrace)
	}
}

// kill ends the process with SIGKILL and waits for it to exit.
func (p *process) kill() error {
	if !p.alive() {
		return nil
	}
	err := p.cmd.Process.Kill()
	<-p.exited
	return err
}

// rssBytes returns the process's resident set size (VmRSS in
// /proc/<pid>/status).
func (p *process) rssBytes() (int64, error) {
	return readRSS(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
}

func readRSS(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseRSS(f)
}

// parseRSS reads the VmRSS line of a /proc/<pid>/status listing.
func parseRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("suite: odd VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("suite: odd VmRSS line %q", sc.Text())
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("suite: no VmRSS line")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
