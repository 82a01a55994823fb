package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	goruntime "runtime"
	"strings"
	"time"
)

func numCPU() int { return goruntime.NumCPU() }

func shutdownCtx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	_ = cancel // released when the deadline passes
	return ctx
}

// fasthttpLogger sends fasthttp's own messages (connection errors such as
// oversized bodies, already answered with 413) to the node log at debug
// level instead of stderr.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...))
}

// totalMemory reads the machine's memory from /proc/meminfo (0 if unknown).
func totalMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}
