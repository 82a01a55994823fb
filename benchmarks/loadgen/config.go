package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Errors returned by Run for a configuration it refuses.
var (
	// ErrInvalidConfig wraps every configuration mistake.
	ErrInvalidConfig = errors.New("loadgen: invalid config")
	// ErrNotLoopback is returned for a target outside the loopback range.
	ErrNotLoopback = errors.New("loadgen: target is not a loopback address")
)

// Limits and defaults applied by Run.
const (
	// MaxConnections bounds Config.Connections (each worker holds its own
	// connection and latency histogram).
	MaxConnections = 1024
	// DefaultTimeout is used when Config.Timeout is zero.
	DefaultTimeout = 5 * time.Second
	// DefaultMethod is used when Config.Method is empty.
	DefaultMethod = "GET"
)

// Config describes one load run. URL and Duration are required.
type Config struct {
	// URL is the target, e.g. "http://127.0.0.1:8080/hello". Only http and
	// loopback hosts are accepted.
	URL string
	// Method defaults to GET.
	Method string
	// Body is sent with every request (nil for none).
	Body []byte
	// Headers are set on every request. "Host" overrides the host header.
	Headers map[string]string
	// Connections is the number of keep-alive connections and workers;
	// 0 means 1. At most MaxConnections.
	Connections int
	// Duration is the measured window after Warmup. Required: it is the
	// hard bound of the run.
	Duration time.Duration
	// MaxRequests ends the run after this many measured requests, if
	// reached before Duration. 0 means no count limit.
	MaxRequests int64
	// Rate, if > 0, selects open-loop mode with this many requests per
	// second in total over all connections. 0 selects closed-loop mode.
	Rate float64
	// Warmup is run before the measured window; its requests are not
	// recorded.
	Warmup time.Duration
	// Timeout bounds every request and the drain of in-flight requests at
	// the end of the run. 0 means DefaultTimeout.
	Timeout time.Duration
}

// target is a validated Config.
type target struct {
	cfg      Config
	method   string
	dialAddr string // host:port, always a loopback IP
	conns    int
	timeout  time.Duration
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// validate checks cfg and fills in defaults.
func validate(cfg Config) (target, error) {
	t := target{cfg: cfg, method: strings.ToUpper(cfg.Method), conns: cfg.Connections, timeout: cfg.Timeout}
	if t.method == "" {
		t.method = DefaultMethod
	}
	if t.conns == 0 {
		t.conns = 1
	}
	if t.timeout == 0 {
		t.timeout = DefaultTimeout
	}
	switch {
	case cfg.Duration <= 0:
		return t, invalid("Duration must be > 0 (it bounds the run), got %v", cfg.Duration)
	case cfg.Warmup < 0:
		return t, invalid("Warmup must be >= 0, got %v", cfg.Warmup)
	case t.timeout < 0:
		return t, invalid("Timeout must be >= 0, got %v", cfg.Timeout)
	case t.conns < 0 || t.conns > MaxConnections:
		return t, invalid("Connections must be in [0, %d], got %d", MaxConnections, cfg.Connections)
	case cfg.MaxRequests < 0:
		return t, invalid("MaxRequests must be >= 0, got %d", cfg.MaxRequests)
	case cfg.Rate < 0 || cfg.Rate != cfg.Rate || cfg.Rate > 1e9:
		return t, invalid("Rate must be in [0, 1e9], got %v", cfg.Rate)
	}
	addr, err := loopbackAddr(cfg.URL)
	if err != nil {
		return t, err
	}
	t.dialAddr = addr
	return t, nil
}

// loopbackAddr returns the host:port to dial for rawURL, refusing anything
// but plain http to a loopback host.
func loopbackAddr(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", invalid("URL %q: %v", rawURL, err)
	}
	if u.Scheme != "http" {
		return "", invalid("URL %q: scheme must be http", rawURL)
	}
	host := u.Hostname()
	if host == "" {
		return "", invalid("URL %q has no host", rawURL)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%w: %q", ErrNotLoopback, host)
	}
	return net.JoinHostPort(ip.String(), port), nil
}
