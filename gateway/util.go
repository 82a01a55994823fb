package gateway

import (
	"context"
	"fmt"
	"log/slog"
	goruntime "runtime"
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
