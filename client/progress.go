package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Progress is one step of a deploy: the upload ("uploading" with the
// bytes sent so far, then "uploaded"), then each phase the node reports
// as it starts, per function ("compiling", "snapshotting", "compiling
// snapshot", "ready").
type Progress struct {
	Phase    string
	Function string // the node's phases name the function
	// Bytes and Total count the upload.
	Bytes, Total int64
	// NodeElapsed is the time since the node received the request
	// (zero for the upload phases).
	NodeElapsed time.Duration
}

// progressLine is a line of the node's streamed deploy answer.
type progressLine struct {
	Phase     string          `json:"phase"`
	Function  string          `json:"function"`
	ElapsedMS int64           `json:"elapsed_ms"`
	Status    int             `json:"status"`
	Code      string          `json:"code"`
	Error     string          `json:"error"`
	Result    json.RawMessage `json:"result"`
}

// uploadEvery is how often the upload reports its bytes.
const uploadEvery = 200 * time.Millisecond

// countingReader reports the bytes read through it.
type countingReader struct {
	r     io.Reader
	n     int64
	total int64
	last  time.Time
	fn    func(Progress)
	once  sync.Once
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if now := time.Now(); n > 0 && now.Sub(c.last) >= uploadEvery && c.n < c.total {
		c.last = now
		c.fn(Progress{Phase: "uploading", Bytes: c.n, Total: c.total})
	}
	// The transport may stop reading at the length it was given, before
	// seeing EOF: the upload is complete when every byte was read.
	if c.n >= c.total || err == io.EOF {
		c.once.Do(func() { c.fn(Progress{Phase: "uploaded", Bytes: c.n, Total: c.total}) })
	}
	return n, err
}

// deployStreamed sends a deploy asking for its progress
// (Accept: application/x-ndjson), reports each line to fn, and decodes
// the final result into out. It returns the status the deploy would have
// had as a plain request. A node that answers plainly (an older node, or
// an error found before the work starts) is handled as Do would.
func (c *Client) deployStreamed(ctx context.Context, method, path string, q url.Values, body []byte, hdr http.Header, out any, fn func(Progress)) (int, error) {
	u := c.Base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	cr := &countingReader{r: bytes.NewReader(body), total: int64(len(body)), last: time.Now(), fn: fn}
	req, err := http.NewRequestWithContext(ctx, method, u, cr)
	if err != nil {
		return 0, err
	}
	req.ContentLength = int64(len(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/x-ndjson")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	// The node reports each phase as it starts, so the answer shows
	// life: no bound on the whole exchange (c.HTTP.Timeout would cut an
	// app of Go functions compiling for minutes on a busy machine, and
	// did); ctx still ends it.
	hc := *c.HTTP
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return resp.StatusCode, err
		}
		return resp.StatusCode, decodeAnswer(resp.StatusCode, data, out)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var l progressLine
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return 0, fmt.Errorf("decoding progress: %w", err)
		}
		switch l.Phase {
		case "done":
			return l.Status, decodeAnswer(l.Status, l.Result, out)
		case "error":
			return l.Status, &APIError{Status: l.Status, Code: l.Code, Message: l.Error}
		default:
			fn(Progress{Phase: l.Phase, Function: l.Function, NodeElapsed: time.Duration(l.ElapsedMS) * time.Millisecond})
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("the node ended the deploy's answer without a result")
}
