package devloop_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/internal/devloop"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// dev is a devloop.Run in progress.
type dev struct {
	out    *testutil.SyncBuffer
	cancel context.CancelFunc
	done   chan error
	public string
	admin  string
}

var (
	publicRE = regexp.MustCompile(`(?m)^  public\s+(http://\S+)`)
	adminRE  = regexp.MustCompile(`(?m)^  admin\s+(http://\S+)`)
)

// startDev runs the loop until the test ends (or stop), and waits until
// it has printed its node's addresses.
func startDev(t *testing.T, opts devloop.Options) *dev {
	t.Helper()
	d := &dev{out: &testutil.SyncBuffer{}, done: make(chan error, 1)}
	opts.Stdout, opts.Stderr = d.out, d.out
	if opts.NodeConfig == nil && opts.Admin == "" {
		opts.NodeConfig = func(c *node.Config) { c.ArtifactDir = testutil.SharedArtifacts() }
	}
	var ctx context.Context
	ctx, d.cancel = context.WithCancel(context.Background())
	go func() { d.done <- devloop.Run(ctx, opts) }()
	t.Cleanup(func() {
		d.cancel()
		<-d.done
		if t.Failed() {
			t.Logf("wedge dev printed:\n%s", d.out)
		}
	})
	testutil.Eventually(t, time.Minute, "wedge dev prints its node", func() bool {
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("Run returned %v:\n%s", err, d.out)
		default:
		}
		m := publicRE.FindStringSubmatch(d.out.String())
		if m == nil {
			return false
		}
		d.public = m[1]
		if m := adminRE.FindStringSubmatch(d.out.String()); m != nil {
			d.admin = m[1]
		}
		return true
	})
	return d
}

// stop ends the loop as Ctrl-C does and returns Run's result.
func (d *dev) stop(t *testing.T) error {
	t.Helper()
	d.cancel()
	select {
	case err := <-d.done:
		d.done <- err // for the cleanup
		return err
	case <-time.After(time.Minute):
		t.Fatalf("Run did not return after its context ended:\n%s", d.out)
		return nil
	}
}

// waitOutput waits until the loop has printed want (count times).
func (d *dev) waitOutput(t *testing.T, timeout time.Duration, want string, count int) {
	t.Helper()
	testutil.Eventually(t, timeout, fmt.Sprintf("%d× %q in wedge dev's output", count, want), func() bool {
		return strings.Count(d.out.String(), want) >= count
	})
}

// body returns what GET url answers ("" when it cannot be reached).
func body(url string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitAnswer polls url until it answers want, and returns how long that
// took from since.
func waitAnswer(t *testing.T, timeout time.Duration, url, want string, since time.Time) time.Duration {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, got := body(url)
		if got == want {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s to answer %q (last answer %q)", timeout, url, want, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// save writes a file as editors do: a temporary file renamed over it.
func save(t *testing.T, path, content string) time.Time {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	return now
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runs is how many edits a measuring test makes (WEDGE_DEV_RUNS, else def).
func runs(def int) int {
	if n, err := strconv.Atoi(os.Getenv("WEDGE_DEV_RUNS")); err == nil && n > 0 {
		return n
	}
	return def
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// loopTimes are the times the loop printed ("redeployed hello in 312ms").
func loopTimes(out, name string) []string {
	re := regexp.MustCompile(`redeployed ` + regexp.QuoteMeta(name) + ` in (\S+)`)
	var ts []string
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		ts = append(ts, m[1])
	}
	return ts
}

// adminClient reads the own node's token from its data directory.
func adminClient(t *testing.T, d *dev, dataDir string) *client.Client {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return client.New(d.admin, strings.TrimSpace(string(tok)))
}

// watText is a WAT function answering text.
func watText(text string) string {
	return fmt.Sprintf(`(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) %q)
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (drop (call $write (i32.const 16) (i32.const %d)))
    (i32.const 0)))
`, text, len(text))
}

// cpuTime is the CPU time this process (the test, the loop and its node)
// has used: the loaded machine stretches wall time, not this.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
