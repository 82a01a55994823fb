package devloop

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/wedge-run/wedge/client"
)

// logStreams follows the logs of the project's functions (the admin
// API's follow mode, one stream per function) and prints every line,
// prefixed with the function's name. A stream that ends (the node
// restarted, the connection dropped) is opened again and resumes after
// the last line printed.
type logStreams struct {
	ctx context.Context
	cl  *client.Client
	out *printer

	mu      sync.Mutex
	streams map[string]context.CancelFunc
	wg      sync.WaitGroup
}

// backlog is how many recent lines a stream shows when it opens.
const backlog = 20

func newLogStreams(ctx context.Context, cl *client.Client, out *printer) *logStreams {
	return &logStreams{ctx: ctx, cl: cl, out: out, streams: map[string]context.CancelFunc{}}
}

// follow starts printing name's log lines, once.
func (s *logStreams) follow(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[name]; ok || s.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.streams[name] = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.stream(ctx, name)
	}()
}

// drop stops following name (a function the app no longer has).
func (s *logStreams) drop(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cancel, ok := s.streams[name]; ok {
		cancel()
		delete(s.streams, name)
	}
}

// stop ends every stream and waits for them.
func (s *logStreams) stop() {
	s.mu.Lock()
	for name, cancel := range s.streams {
		cancel()
		delete(s.streams, name)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *logStreams) stream(ctx context.Context, name string) {
	var last uint64
	limit := backlog
	for {
		_ = s.cl.Logs(ctx, name, limit, true, func(e client.LogEntry) {
			if e.Missed > 0 {
				s.out.printf("%s | ... %d lines missed (printing fell behind)\n", name, e.Missed)
				return
			}
			if e.Seq <= last {
				return
			}
			last = e.Seq
			rid := ""
			if e.RequestID != "" {
				rid = "[" + e.RequestID + "] "
			}
			// A message of several lines (an exception and its stack)
			// keeps the function's prefix on each.
			msg := strings.ReplaceAll(strings.TrimRight(e.Message, "\n"), "\n", "\n"+name+" |   ")
			s.out.printf("%s | %s %-5s %s%s\n", name, e.Time.Local().Format("15:04:05.000"), e.Level, rid, msg)
		})
		limit = 0 // again: everything after the last line printed
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
