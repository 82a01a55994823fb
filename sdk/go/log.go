package wedge

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/wedge-run/wedge/abi"
)

// hostLog sends msg to the function's logs through the log host function.
// A message longer than a log line is split, preferably at line breaks, so
// nothing is lost to the host's truncation.
func hostLog(h host, level int32, msg string) {
	for len(msg) > abi.MaxLogLine {
		cut := strings.LastIndexByte(msg[:abi.MaxLogLine], '\n')
		if cut <= 0 {
			cut = abi.MaxLogLine
		}
		h.log(level, msg[:cut])
		msg = strings.TrimPrefix(msg[cut:], "\n")
	}
	h.log(level, msg)
}

// Logger returns a structured logger whose records become log lines of
// the function, with their level (debug, info, warn, error) passed to the
// host. A line holds the message followed by the attributes in slog's text
// form:
//
//	wedge.Logger().Info("note created", "id", 7)   // info: note created id=7
//
// Every level from debug up is sent. The standard log package and
// slog.Default keep working too: what a module writes to stdout or stderr
// also becomes log lines, at the host's default level.
func Logger() *slog.Logger {
	loggerOnce.Do(func() { logger = slog.New(newLogHandler(nil)) })
	return logger
}

var (
	loggerOnce sync.Once
	logger     *slog.Logger
)

// logHandler formats records with slog's text handler (without time and
// level, which the host records) and sends them through the log host
// function. h is nil for the package host (sys), read at each record so
// tests can swap it.
type logHandler struct {
	h     host
	out   *logBuffer
	inner slog.Handler
}

// logBuffer collects one formatted record; mu serializes records, since
// the inner text handlers of all derived loggers share it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) { return b.buf.Write(p) }

func newLogHandler(h host) *logHandler {
	out := &logBuffer{}
	inner := slog.NewTextHandler(out, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 {
				switch a.Key {
				case slog.TimeKey, slog.LevelKey, slog.MessageKey:
					return slog.Attr{}
				}
			}
			return a
		},
	})
	return &logHandler{h: h, out: out, inner: inner}
}

func (l *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.inner.Enabled(ctx, level)
}

func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	l.out.mu.Lock()
	defer l.out.mu.Unlock()
	l.out.buf.Reset()
	if err := l.inner.Handle(ctx, r); err != nil {
		return err
	}
	attrs := strings.TrimSuffix(l.out.buf.String(), "\n")
	line := r.Message
	if attrs != "" {
		if line != "" {
			line += " "
		}
		line += attrs
	}
	h := l.h
	if h == nil {
		h = sys
	}
	hostLog(h, slogLevel(r.Level), line)
	return nil
}

func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{h: l.h, out: l.out, inner: l.inner.WithAttrs(attrs)}
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{h: l.h, out: l.out, inner: l.inner.WithGroup(name)}
}

// slogLevel maps a slog level to the host's four levels.
func slogLevel(l slog.Level) int32 {
	switch {
	case l < slog.LevelInfo:
		return abi.LogDebug
	case l < slog.LevelWarn:
		return abi.LogInfo
	case l < slog.LevelError:
		return abi.LogWarn
	}
	return abi.LogError
}
