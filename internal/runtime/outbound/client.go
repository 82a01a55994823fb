package outbound

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wedge-run/wedge/model"
)

// Defaults of the outbound limits.
const (
	DefaultTimeout          = 10 * time.Second // per request, within the function's deadline
	DefaultMaxResponseBytes = 16 << 20
	DefaultMaxRequests      = 50  // per invocation
	DefaultMaxConcurrent    = 256 // per node
	DefaultMaxConnsPerHost  = 64
	DefaultMaxRedirects     = 5
	// MaxMaxRequests is the largest per-invocation request budget a
	// function may set.
	MaxMaxRequests = model.MaxOutboundRequests
	// MaxRequestBodyBytes bounds the body a guest may send.
	MaxRequestBodyBytes = 16 << 20
)

// Config configures the node's Client.
type Config struct {
	// CAFile is a PEM bundle of extra roots (private CAs), trusted in
	// addition to the system's.
	CAFile string
	// RootCAs, when set, is used instead of the system roots (tests).
	RootCAs *x509.CertPool
	// Protected lists the node's own listeners that no guest may reach
	// (the admin API), as "host:port".
	Protected []string
	// MaxConcurrent bounds the outbound requests in flight on the node.
	MaxConcurrent int
	// MaxConnsPerHost bounds the connections to one host.
	MaxConnsPerHost int
	// MaxRedirects bounds the redirects followed per request.
	MaxRedirects int
	// Resolver replaces DNS resolution (tests).
	Resolver Resolver
}

// Policy is what one function may do: built once per deployed version.
type Policy struct {
	Function         string
	Allow            AllowList
	Timeout          time.Duration // per request
	MaxResponseBytes int64
	MaxRequests      int // per invocation
}

// WithDefaults fills zero limits.
func (p Policy) WithDefaults() Policy {
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.MaxResponseBytes <= 0 {
		p.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if p.MaxRequests <= 0 {
		p.MaxRequests = DefaultMaxRequests
	}
	return p
}

// Client sends the guests' requests. It is safe for concurrent use.
type Client struct {
	cfg       Config
	tlsConf   *tls.Config
	protected []netip.AddrPort
	sem       chan struct{}

	mu         sync.Mutex
	transports map[string]*http.Transport // by AllowList.addrKey

	localOnce  sync.Once
	localAddrs []netip.Addr

	metrics metrics
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.MaxConnsPerHost <= 0 {
		cfg.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	roots := cfg.RootCAs
	if roots == nil {
		var err error
		if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("outbound CA bundle: %w", err)
		}
		roots = roots.Clone()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("outbound CA bundle %s: no PEM certificate found", cfg.CAFile)
		}
	}
	c := &Client{
		cfg:        cfg,
		tlsConf:    &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		sem:        make(chan struct{}, cfg.MaxConcurrent),
		transports: map[string]*http.Transport{},
	}
	c.metrics.init()
	for _, p := range cfg.Protected {
		ap, err := resolveListen(p)
		if err != nil {
			return nil, fmt.Errorf("outbound: protected address %q: %w", p, err)
		}
		c.protected = append(c.protected, ap)
	}
	return c, nil
}

func resolveListen(hostport string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := net.LookupPort("tcp", port)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if host == "" || host == "localhost" {
		if host == "localhost" {
			host = "127.0.0.1"
		} else {
			host = "0.0.0.0"
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

// Protect adds a listener no guest may reach (the admin API, once its
// address is known).
func (c *Client) Protect(hostport string) error {
	ap, err := resolveListen(hostport)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.protected = append(c.protected, ap)
	c.mu.Unlock()
	return nil
}

// transport returns the shared transport for the address rules of allow:
// functions whose lists name no private address share one pool (every
// connection in it leads to a public address); a list that names some
// gets a pool shared only with lists naming the same ones, so a pooled
// connection to a private address never serves a function not allowed it.
func (c *Client) transport(allow AllowList) *http.Transport {
	key := allow.addrKey()
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.transports[key]; t != nil {
		return t
	}
	d := &dialer{c: c, allow: allow, net: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}}
	t := &http.Transport{
		DialContext:           d.DialContext,
		TLSClientConfig:       c.tlsConf,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   16,
		MaxConnsPerHost:       c.cfg.MaxConnsPerHost,
		IdleConnTimeout:       60 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 0, // the request's context bounds it
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
	c.transports[key] = t
	return t
}

// CloseIdle closes every idle pooled connection.
func (c *Client) CloseIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.transports {
		t.CloseIdleConnections()
	}
}

// Request is what a guest sends.
type Request struct {
	Method    string
	URL       string
	Header    http.Header
	Body      []byte
	RequestID string
	// Deadline is the calling function's own deadline; the request ends
	// by then whatever its timeout. Zero means none.
	Deadline time.Time
	// Timeout, when positive and shorter than the policy's, bounds this
	// request (a guest's context deadline).
	Timeout time.Duration
	// TraceParent is forwarded as the W3C traceparent header; empty
	// starts a new trace.
	TraceParent string
}

// Error kinds, as counted in the metrics and mapped to ABI codes by the
// runtime.
var (
	ErrDenied    = errors.New("destination not on the function's allowed_hosts")
	ErrTimeout   = errors.New("outbound request timed out")
	ErrTooLarge  = errors.New("outbound response over the function's limit")
	ErrBusy      = errors.New("too many outbound requests in flight on the node")
	ErrRedirects = errors.New("too many redirects")
	ErrInvalid   = errors.New("invalid outbound request")
	ErrNetwork   = errors.New("outbound connection failed")
)

// DeniedError names the refused destination.
type DeniedError struct {
	URL string // scheme://host:port
	Err error  // ErrDenied or ErrBlockedAddr
}

func (e *DeniedError) Error() string { return e.Err.Error() + ": " + e.URL }
func (e *DeniedError) Unwrap() error { return e.Err }

// Response is an open response; its body is read with Read and it must
// be closed.
type Response struct {
	Status int
	Header http.Header
	body   io.ReadCloser
	limit  int64
	read   int64
	cancel context.CancelFunc
	c      *Client
	once   sync.Once
	start  time.Time
	fn     string
	host   string
}

// Read reads the next bytes of the body; io.EOF at the end. An error
// wrapping ErrTooLarge, ErrTimeout or ErrNetwork ends the body.
func (r *Response) Read(p []byte) (int, error) {
	if r.read >= r.limit {
		// Probe one byte: a body of exactly the limit is fine.
		var one [1]byte
		n, err := r.body.Read(one[:])
		if n > 0 {
			r.c.metrics.fail(r.fn, r.host, "too_large")
			return 0, ErrTooLarge
		}
		return 0, r.c.readErr(err)
	}
	if int64(len(p)) > r.limit-r.read {
		p = p[:r.limit-r.read]
	}
	n, err := r.body.Read(p)
	r.read += int64(n)
	if err != nil && err != io.EOF {
		err = r.c.readErr(err)
		if errors.Is(err, ErrTimeout) {
			r.c.metrics.fail(r.fn, r.host, "timeout")
		} else {
			r.c.metrics.fail(r.fn, r.host, "network")
		}
	}
	return n, err
}

func (c *Client) readErr(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %v", ErrNetwork, err)
}

// Bounds of the drain of an unread body at Close: a connection is only
// reused after its body was read to the end, so Close reads what is left
// of a small body; a body larger than drainBytes, or one whose rest does
// not arrive within drainTime, is not worth the wait and its connection
// is closed instead.
const (
	drainBytes = 64 << 10
	drainTime  = 25 * time.Millisecond
)

// Close releases the response, its connection (back to the pool when the
// rest of the body was drained, see drainBytes) and its slot.
func (r *Response) Close() error {
	r.once.Do(func() {
		if r.read < r.limit {
			stop := time.AfterFunc(drainTime, r.cancel)
			io.CopyN(io.Discard, r.body, drainBytes)
			stop.Stop()
		}
		r.body.Close()
		r.cancel()
		<-r.c.sem
		r.c.metrics.done(r.fn, r.host, time.Since(r.start))
	})
	return nil
}

// Do sends req for the function of p. ctx carries the function's
// deadline; the request's own timeout is applied within it. On success
// the response head has arrived and the body is open.
func (c *Client) Do(ctx context.Context, p *Policy, req *Request) (*Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%w: the URL must be absolute http:// or https:// without user info", ErrInvalid)
	}
	if len(req.Body) > MaxRequestBodyBytes {
		return nil, fmt.Errorf("%w: request body over %d bytes", ErrTooLarge, MaxRequestBodyBytes)
	}
	host := u.Hostname()
	if !p.Allow.Allows(u) {
		c.metrics.refused(p.Function, host, "denied")
		return nil, &DeniedError{URL: origin(u), Err: ErrDenied}
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	select {
	case c.sem <- struct{}{}:
	default:
		c.metrics.refused(p.Function, host, "busy")
		return nil, ErrBusy
	}
	timeout := p.Timeout
	if req.Timeout > 0 && req.Timeout < timeout {
		timeout = req.Timeout
	}
	deadline := time.Now().Add(timeout)
	if !req.Deadline.IsZero() && req.Deadline.Before(deadline) {
		deadline = req.Deadline
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	ok := false
	defer func() {
		if !ok {
			cancel()
			<-c.sem
		}
	}()
	var body io.Reader
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", "wedge")
	}
	if req.RequestID != "" {
		hr.Header.Set("X-Request-Id", req.RequestID)
	}
	tp := req.TraceParent
	if tp == "" {
		tp = newTraceParent()
	}
	hr.Header.Set("Traceparent", tp)

	var refused error
	hc := http.Client{
		Transport: c.transport(p.Allow),
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if len(via) > c.cfg.MaxRedirects {
				return ErrRedirects
			}
			if !p.Allow.Allows(next.URL) {
				refused = &DeniedError{URL: origin(next.URL), Err: ErrDenied}
				return refused
			}
			return nil
		},
	}
	start := time.Now()
	resp, err := hc.Do(hr)
	if err != nil {
		kind, e := c.classify(err, refused)
		c.metrics.fail(p.Function, host, kind)
		c.metrics.done(p.Function, host, time.Since(start))
		return nil, e
	}
	ok = true
	return &Response{
		Status: resp.StatusCode, Header: resp.Header, body: resp.Body,
		limit: p.MaxResponseBytes, cancel: cancel, c: c,
		start: start, fn: p.Function, host: host,
	}, nil
}

func (c *Client) classify(err, refused error) (string, error) {
	var de *DeniedError
	switch {
	case refused != nil:
		return "denied", refused
	case errors.Is(err, ErrBlockedAddr):
		return "blocked", &DeniedError{URL: blockedDetail(err), Err: ErrBlockedAddr}
	case errors.As(err, &de):
		return "denied", de
	case errors.Is(err, ErrRedirects):
		return "redirects", ErrRedirects
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout", fmt.Errorf("%w", ErrTimeout)
	case errors.Is(err, context.Canceled):
		return "timeout", fmt.Errorf("%w", ErrTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return "timeout", ErrTimeout
	}
	return "network", fmt.Errorf("%w: %v", ErrNetwork, shortNetErr(err))
}

// blockedDetail extracts "host resolves to ip:port" from a dial error.
func blockedDetail(err error) string {
	s := err.Error()
	if i := strings.Index(s, ErrBlockedAddr.Error()+": "); i >= 0 {
		return s[i+len(ErrBlockedAddr.Error())+2:]
	}
	return s
}

func shortNetErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = fmt.Sprint(defaultPort(u.Scheme))
	}
	return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port)
}

func newTraceParent() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}

// NewSpanID returns a random W3C trace-context parent id (16 hex digits).
func NewSpanID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
