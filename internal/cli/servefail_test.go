package cli_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestServeStartupErrors runs `wedge serve` where it cannot start: each
// failure is one line on stderr naming the cause and a non-zero exit,
// never a panic (it was a nil pointer dereference in node.(*Node).Close)
// nor a hang.
func TestServeStartupErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	locked := t.TempDir()
	serve(t, locked) // a running node holds locked/wedge.db

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"public port in use", []string{"--http", addr, "--admin", "127.0.0.1:0", "--data", t.TempDir()},
			[]string{"wedge serve: public gateway: ", addr, "address already in use"}},
		{"admin port in use", []string{"--http", "127.0.0.1:0", "--admin", addr, "--data", t.TempDir()},
			[]string{"wedge serve: admin API: ", addr, "address already in use"}},
		{"data directory locked", []string{"--http", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--data", locked},
			[]string{"wedge serve: storage: ", locked, "is locked", "another wedge node"}},
		// Fails after the gateway started: its listeners must close (the
		// process hung in the gateway's Close).
		{"gossip port in use", []string{"--http", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--data", t.TempDir(),
			"--gossip", addr, "--cluster-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="},
			[]string{"wedge serve: cluster: ", addr, "address already in use"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, wedgeBinary(t), append([]string{"serve"}, tc.args...)...)
			cmd.Env = append(os.Environ(), "WEDGE_ADMIN_TOKEN=")
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v (want status 1)\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			out := stderr.String()
			for _, bad := range []string{"panic", "goroutine ", "nil pointer"} {
				if strings.Contains(out, bad) {
					t.Fatalf("stderr holds %q:\n%s", bad, out)
				}
			}
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("want one line on stderr, got %d:\n%s", len(lines), out)
			}
			for _, w := range tc.want {
				if !strings.Contains(lines[0], w) {
					t.Fatalf("stderr %q lacks %q", lines[0], w)
				}
			}
			if strings.Contains(stdout.String(), "serving") {
				t.Fatalf("claims to serve:\n%s", stdout.String())
			}
		})
	}
}
