package benchmarks

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wedge-run/wedge/benchmarks/loadgen"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/examples"
	"github.com/wedge-run/wedge/internal/testutil"
)

// busyWAT spins for about n iterations per request: a CPU-bound function.
const busyWAT = `(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "done")
  (func (export "wedge_handle") (param i32 i32) (result i32)
    (local $i i32)
    (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 2000000))))
    (drop (call $write (i32.const 0) (i32.const 4)))
    (i32.const 0)))`

// TestOverloadCurve measures throughput and latency against offered load
// from 0.5x to 10x of the node's capacity, with the fixed and the
// adaptive limit, for a fast and a CPU-heavy function, and prints a
// Markdown table. It is a measurement, not a check: it runs only with
// WEDGE_BENCH=1 (make bench-overload).
func TestOverloadCurve(t *testing.T) {
	if os.Getenv("WEDGE_BENCH") == "" {
		t.Skip("a measurement: set WEDGE_BENCH=1 to run it")
	}
	per := 2 * time.Second
	bin := filepath.Join(t.TempDir(), "wedge")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/wedge").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	serverCPUs, genCPUs, err := loadgen.SplitCPUs()
	if err == nil {
		if err := loadgen.PinProcess(genCPUs); err != nil {
			t.Logf("pinning the generator: %v", err)
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| function | limit | offered | offered req/s | served req/s | shed %% | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|---|\n")
	for _, fn := range []struct{ name, wat string }{{"fast", examples.HelloWAT}, {"cpu-heavy", busyWAT}} {
		for _, adaptive := range []bool{false, true} {
			pub, adm := freeAddr(t), freeAddr(t)
			args := []string{"serve", "--http", pub, "--admin", adm, "--data", t.TempDir(), "--admin-token", "x", "--log-level", "error"}
			if adaptive {
				args = append(args, "--adaptive")
			}
			cmd, perr := loadgen.PinnedCommand(context.Background(), serverCPUs, bin, args...)
			if perr != nil {
				t.Logf("server not pinned: %v", perr)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cl := client.New("http://"+adm, "x")
			testutil.Eventually(t, 20*time.Second, "the node", func() bool { _, err := cl.Health(context.Background()); return err == nil })
			if _, _, err := cl.Deploy(context.Background(), fn.name, testutil.WAT(t, fn.wat), client.DeployOptions{Routes: []string{"/f"}}); err != nil {
				t.Fatal(err)
			}
			url := "http://" + pub + "/f"
			capRes, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, Connections: 16, Duration: per, Warmup: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			capacity := capRes.SuccessThroughput
			mode := "fixed (default)"
			if adaptive {
				mode = "adaptive"
			}
			for _, x := range []float64{0.5, 1, 2, 5, 10} {
				rate := capacity * x
				res, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, Connections: min(1024, max(16, int(rate/200))), Rate: rate, Duration: per, Timeout: 2 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				shed := float64(res.StatusCodes[503]) / float64(max(res.Responses, 1)) * 100
				fmt.Fprintf(&table, "| %s | %s | %.1fx | %.0f | %.0f | %.1f | %.2f | %.2f |\n", fn.name, mode, x, rate,
					res.SuccessThroughput, shed, res.Latency.P50/1000, res.Latency.P99/1000)
			}
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Logf("\n%s", table.String())
	if out := os.Getenv("WEDGE_BENCH_OUT"); out != "" {
		os.WriteFile(out, []byte(table.String()), 0o644)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
