package runtime

import (
	"strings"
	"sync"
)

// InitError is a deploy-time initializer that failed: the trap or exit,
// and what the guest logged at error level before it (a JavaScript
// engine logs the script's SyntaxError there, with its line and
// column). Preinitialize's error wraps it.
type InitError struct {
	Cause string // the trap or exit, short
	Log   string // the guest's error-level log lines, joined by newlines
}

func (e *InitError) Error() string {
	if e.Log == "" {
		return "_initialize: " + e.Cause
	}
	return "_initialize: " + e.Cause + ": " + e.Log
}

// maxInitLog bounds what an InitError keeps of the guest's log.
const maxInitLog = 4 << 10

// initLogs passes an initializer's log lines on to the function's sink
// and keeps its error-level ones for an InitError.
type initLogs struct {
	next LogSink
	mu   sync.Mutex
	errs strings.Builder
}

func (l *initLogs) Append(function, requestID string, level int32, stream string, line []byte) {
	if l.next != nil {
		l.next.Append(function, requestID, level, stream, line)
	}
	if level < 3 && stream != "stderr" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.errs.Len() >= maxInitLog {
		return
	}
	if l.errs.Len() > 0 {
		l.errs.WriteByte('\n')
	}
	if room := maxInitLog - l.errs.Len(); len(line) > room {
		line = line[:room]
	}
	l.errs.Write(line)
}

func (l *initLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errs.String()
}
