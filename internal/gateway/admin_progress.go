package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// A deploy (PUT /v1/functions/{name}, PUT /v1/apps/{app}) with
// "Accept: application/x-ndjson" streams its progress: one JSON line per
// phase as it starts, then the result as the last line:
//
//	{"phase":"compiling","function":"hi","elapsed_ms":1}
//	{"phase":"snapshotting","function":"hi","elapsed_ms":180}
//	{"phase":"compiling snapshot","function":"hi","elapsed_ms":300}
//	{"phase":"ready","function":"hi","elapsed_ms":420}
//	{"phase":"done","status":201,"elapsed_ms":421,"result":{...the plain answer...}}
//
// or, when it fails, {"phase":"error","status":400,"code":"...","error":"..."}.
// The HTTP status is then 200 whatever the outcome (it is sent before the
// work starts); the last line carries the real one. Without that Accept
// header the answer is the plain JSON of the API contract.

// ProgressLine is one line of a streamed deploy.
type ProgressLine struct {
	Phase     string `json:"phase"`
	Function  string `json:"function,omitempty"`
	ElapsedMS int64  `json:"elapsed_ms"`
	Status    int    `json:"status,omitempty"`
	Code      string `json:"code,omitempty"`
	Error     string `json:"error,omitempty"`
	Result    any    `json:"result,omitempty"`
}

const ndjson = "application/x-ndjson"

// wantsProgress reports whether the client asked for a streamed deploy.
func wantsProgress(ctx *fasthttp.RequestCtx) bool {
	return bytes.Contains(ctx.Request.Header.Peek("Accept"), []byte(ndjson))
}

// deployWork does a deploy, telling say each phase of each function, and
// returns the status and body of the plain answer.
type deployWork func(say func(function, phase string)) (int, any, error)

// runDeploy answers a deploy: plainly, or streamed when asked. Anything
// run needs from ctx must be read before: the stream runs after the
// handler returns.
func (s *Server) runDeploy(ctx *fasthttp.RequestCtx, run deployWork) {
	if !wantsProgress(ctx) {
		status, v, err := run(func(string, string) {})
		if err != nil {
			WriteError(ctx, err)
			return
		}
		writeJSON(ctx, status, v)
		return
	}
	start := time.Now()
	ctx.SetStatusCode(200)
	ctx.SetContentType(ndjson)
	ctx.SetBodyStreamWriter(s.recoveringStream("deploy progress", func(w *bufio.Writer) {
		var mu sync.Mutex // say may be called from the registry's goroutines
		send := func(l ProgressLine) {
			mu.Lock()
			defer mu.Unlock()
			l.ElapsedMS = time.Since(start).Milliseconds()
			b, _ := json.Marshal(l)
			_, _ = w.Write(append(b, '\n'))
			_ = w.Flush() // a client gone away does not stop the deploy
		}
		status, v, err := run(func(fn, phase string) { send(ProgressLine{Phase: phase, Function: fn}) })
		if err != nil {
			st, code := statusOf(err)
			send(ProgressLine{Phase: "error", Status: st, Code: code, Error: err.Error()})
			return
		}
		send(ProgressLine{Phase: "done", Status: status, Result: v})
	}))
}
