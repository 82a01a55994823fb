package loadgen_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wedge-run/wedge/benchmarks/loadgen"
)

// A benchmark on a 2-core machine: the server pinned to one CPU, the
// generator to the other, then a closed-loop and an open-loop run.
func Example() {
	ctx := context.Background()
	pinning := "unpinned"
	server, generator, err := loadgen.SplitCPUs()
	cmd, pinErr := loadgen.PinnedCommand(ctx, server, "./wedge", "serve", "--listen", "127.0.0.1:8080")
	switch {
	case err != nil:
		pinning = "unpinned: " + err.Error()
	case pinErr != nil:
		pinning = "unpinned: " + pinErr.Error()
	default:
		if err := loadgen.PinProcess(generator); err != nil {
			pinning = "server pinned, generator unpinned: " + err.Error()
		} else {
			pinning = fmt.Sprintf("server: cpu %s, generator: cpu %s",
				loadgen.FormatCPUList(server), loadgen.FormatCPUList(generator))
		}
	}
	if err := cmd.Start(); err != nil {
		return
	}
	defer cmd.Process.Kill()

	closed, err := loadgen.Run(ctx, loadgen.Config{
		URL:         "http://127.0.0.1:8080/hello",
		Connections: 64,
		Warmup:      2 * time.Second,
		Duration:    10 * time.Second,
	})
	if err != nil {
		return
	}
	// Open loop at half the closed-loop throughput.
	open, err := loadgen.Run(ctx, loadgen.Config{
		URL:         "http://127.0.0.1:8080/hello",
		Connections: 64,
		Rate:        closed.Throughput / 2,
		Warmup:      2 * time.Second,
		Duration:    10 * time.Second,
	})
	if errors.Is(err, loadgen.ErrInvalidConfig) {
		return
	}
	fmt.Println(pinning, closed.Throughput, closed.Latency.P99, open.Latency.P99, open.Unsent)
}
