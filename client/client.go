// Package client is a Go client for the wedge admin API. The CLI is built
// on it; programs that deploy functions or manage data can use it too.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wedge-run/wedge/model"
)

// Client talks to one node's admin API.
type Client struct {
	Base  string // "http://127.0.0.1:8081"
	Token string
	HTTP  *http.Client
}

// New returns a client for the admin API at base.
func New(base, token string) *Client {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 5 * time.Minute}}
}

// APIError is an error answered by the node.
type APIError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"error"`
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return e.Message
}

// IsStatus reports whether err is an APIError with the given status.
func IsStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// Do sends a request and decodes a JSON answer into out (if not nil).
func (c *Client) Do(ctx context.Context, method, path string, q url.Values, body io.Reader, hdr http.Header, out any) (*http.Response, error) {
	u := c.Base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, err
	}
	return resp, decodeAnswer(resp.StatusCode, data, out)
}

// decodeAnswer turns an answer into an APIError (status >= 400) or
// decodes it into out (if not nil).
func decodeAnswer(status int, data []byte, out any) error {
	if status >= 400 {
		ae := &APIError{Status: status}
		if json.Unmarshal(data, ae) != nil || ae.Message == "" {
			ae.Message = strings.TrimSpace(string(data))
		}
		return ae
	}
	if out != nil {
		if b, ok := out.(*[]byte); ok {
			*b = data
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decoding answer: %w", err)
		}
	}
	return nil
}

// Function is a deployed function as the API shows it: its record
// (model.Function, secret values hidden) and whether the node loaded its
// native code from the artifact cache.
type Function struct {
	model.Function
	FromCache bool `json:"from_cache"`
}

// DeployOptions are the optional settings of a deploy.
type DeployOptions struct {
	Routes           []string
	TimeoutMS        int64
	MemoryMB         int64
	MaxResponseBytes int
	MaxConcurrency   int
	Config           map[string]string
	KVNamespace      string
	KVGrants         []string
	// AllowedHosts are the outbound HTTP destinations the function may
	// reach ("https://api.example.com"); none by default.
	AllowedHosts []string
	// Outbound HTTP limits, as the manifest's outbound_timeout,
	// outbound_max_response_bytes and outbound_max_requests; zero keeps
	// the node default.
	OutboundTimeoutMS        int64
	OutboundMaxResponseBytes int64
	OutboundMaxRequests      int
	App                      string
	NoSnapshot               bool
	// Affinity serves the paths matching this pattern (ending in /*) on
	// one node per key in a cluster.
	Affinity string
	// Triggers are JSON objects such as {"kind":"queue","queue":"jobs"}.
	Triggers []string
	// JavaScript sends the body as a JavaScript module (worker.js) for
	// wedge's JavaScript engine instead of a WebAssembly module.
	JavaScript bool
	// Progress, if set, is told the upload's progress and each phase of
	// the deploy on the node as it starts (progress.go).
	Progress func(Progress)
	// Traffic between 1 and 99 deploys a gradual rollout: the new version
	// serves that percentage of requests, the current one the rest
	// (Promote, Rollback end it). TrafficKey ("header:NAME" or
	// "cookie:NAME") keeps each client on one side.
	Traffic    int
	TrafficKey string
}

// Deploy uploads a module (or, with o.JavaScript, a script). created is
// true for a new function.
func (c *Client) Deploy(ctx context.Context, name string, wasm []byte, o DeployOptions) (f Function, created bool, err error) {
	q := url.Values{}
	for _, r := range o.Routes {
		q.Add("route", r)
	}
	if o.TimeoutMS > 0 {
		q.Set("timeout_ms", strconv.FormatInt(o.TimeoutMS, 10))
	}
	if o.MemoryMB > 0 {
		q.Set("memory_mb", strconv.FormatInt(o.MemoryMB, 10))
	}
	if o.MaxResponseBytes > 0 {
		q.Set("max_response_bytes", strconv.Itoa(o.MaxResponseBytes))
	}
	if o.MaxConcurrency > 0 {
		q.Set("max_concurrency", strconv.Itoa(o.MaxConcurrency))
	}
	for k, v := range o.Config {
		q.Add("config", k+"="+v)
	}
	if o.KVNamespace != "" {
		q.Set("kv_namespace", o.KVNamespace)
	}
	for _, g := range o.KVGrants {
		q.Add("kv_grant", g)
	}
	for _, h := range o.AllowedHosts {
		q.Add("allow_host", h)
	}
	if o.OutboundTimeoutMS > 0 {
		q.Set("outbound_timeout_ms", strconv.FormatInt(o.OutboundTimeoutMS, 10))
	}
	if o.OutboundMaxResponseBytes > 0 {
		q.Set("outbound_max_response_bytes", strconv.FormatInt(o.OutboundMaxResponseBytes, 10))
	}
	if o.OutboundMaxRequests > 0 {
		q.Set("outbound_max_requests", strconv.Itoa(o.OutboundMaxRequests))
	}
	if o.App != "" {
		q.Set("app", o.App)
	}
	if o.NoSnapshot {
		q.Set("snapshot", "false")
	}
	if o.Affinity != "" {
		q.Set("affinity", o.Affinity)
	}
	for _, t := range o.Triggers {
		q.Add("trigger", t)
	}
	if o.Traffic != 0 {
		q.Set("traffic", strconv.Itoa(o.Traffic))
	}
	if o.TrafficKey != "" {
		q.Set("traffic_key", o.TrafficKey)
	}
	ct := "application/wasm"
	if o.JavaScript {
		ct = "application/javascript"
	}
	hdr := http.Header{"Content-Type": {ct}}
	if o.Progress != nil {
		status, err := c.deployStreamed(ctx, "PUT", "/v1/functions/"+url.PathEscape(name), q, wasm, hdr, &f, o.Progress)
		return f, err == nil && status == http.StatusCreated, err
	}
	resp, err := c.Do(ctx, "PUT", "/v1/functions/"+url.PathEscape(name), q, bytes.NewReader(wasm), hdr, &f)
	if err != nil {
		return f, false, err
	}
	return f, resp.StatusCode == http.StatusCreated, nil
}

// List returns every deployed function.
func (c *Client) List(ctx context.Context) ([]Function, error) {
	var out struct {
		Functions []Function `json:"functions"`
	}
	_, err := c.Do(ctx, "GET", "/v1/functions", nil, nil, nil, &out)
	return out.Functions, err
}

// Get returns one function.
func (c *Client) Get(ctx context.Context, name string) (Function, error) {
	var f Function
	_, err := c.Do(ctx, "GET", "/v1/functions/"+url.PathEscape(name), nil, nil, nil, &f)
	return f, err
}

// Delete removes a function.
func (c *Client) Delete(ctx context.Context, name string) error {
	_, err := c.Do(ctx, "DELETE", "/v1/functions/"+url.PathEscape(name), nil, nil, nil, nil)
	return err
}

// LogEntry is one log line.
type LogEntry struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Function  string    `json:"function"`
	RequestID string    `json:"request_id"`
	Level     string    `json:"level"`
	Stream    string    `json:"stream"`
	Message   string    `json:"message"`
	Missed    int       `json:"missed,omitempty"`
}

// Logs calls fn for each log line of a function. With follow it keeps
// streaming until ctx ends or the node closes the stream.
func (c *Client) Logs(ctx context.Context, name string, limit int, follow bool, fn func(LogEntry)) error {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if follow {
		q.Set("follow", "1")
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.Base+"/v1/functions/"+url.PathEscape(name)+"/logs?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := *c.HTTP
	if follow {
		hc.Timeout = 0
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		data, _ := io.ReadAll(resp.Body)
		ae := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(data, ae) != nil {
			ae.Message = strings.TrimSpace(string(data))
		}
		return ae
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e LogEntry
		if json.Unmarshal(line, &e) == nil {
			fn(e)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}

// Health returns /healthz.
func (c *Client) Health(ctx context.Context) (map[string]any, error) {
	var out map[string]any
	_, err := c.Do(ctx, "GET", "/healthz", nil, nil, nil, &out)
	return out, err
}
