package outbound

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func mustList(t *testing.T, entries ...string) AllowList {
	t.Helper()
	l, err := ParseAllowList(entries)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestParseRule(t *testing.T) {
	good := map[string]string{
		"https://api.example.com":      "https://api.example.com",
		"https://API.example.com:443/": "https://api.example.com",
		"https://*.example.org:8443":   "https://*.example.org:8443",
		"http://127.0.0.1:9000":        "http://127.0.0.1:9000",
		"http://[::1]:8080":            "http://[::1]:8080",
		"http://[::ffff:10.0.0.1]:80":  "http://10.0.0.1",
		"HTTP://example.com:80":        "http://example.com",
	}
	for in, want := range good {
		r, err := ParseRule(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if r.String() != want {
			t.Errorf("%s: got %s, want %s", in, r, want)
		}
	}
	for _, bad := range []string{"", "example.com", "ftp://example.com", "https://", "https://a/b",
		"https://*", "https://a.*.com", "https://user@a.com", "https://a.com:0", "https://a.com:70000", "https://a com"} {
		if _, err := ParseRule(bad); !errors.Is(err, ErrBadRule) {
			t.Errorf("%q: got %v, want ErrBadRule", bad, err)
		}
	}
}

func TestAllows(t *testing.T) {
	l := mustList(t, "https://api.example.com", "https://*.example.org:8443", "http://127.0.0.1:9000")
	cases := map[string]bool{
		"https://api.example.com/x":         true,
		"https://API.example.com:443/x":     true,
		"http://api.example.com/x":          false, // scheme
		"https://api.example.com:8443/":     false, // port mismatch
		"https://evil.com/":                 false,
		"https://api.example.com.evil.com/": false,
		"https://a.example.org:8443/":       true, // wildcard
		"https://a.b.example.org:8443/":     true,
		"https://example.org:8443/":         false, // wildcard is subdomains only
		"https://a.example.org/":            false, // wildcard, port mismatch
		"https://xexample.org:8443/":        false,
		"http://127.0.0.1:9000/":            true,
		"http://127.0.0.1:9001/":            false,
	}
	for s, want := range cases {
		u, _ := url.Parse(s)
		if got := l.Allows(u); got != want {
			t.Errorf("%s: got %v, want %v", s, got, want)
		}
	}
	if (AllowList{}).Allows(&url.URL{Scheme: "https", Host: "example.com"}) {
		t.Error("the empty list allows something")
	}
}

func TestSpecialAddresses(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
		"0.0.0.0", "::1", "::", "fc00::1", "fd12::1", "fe80::1", "::ffff:127.0.0.1", "100.64.0.1"} {
		if !special(netip.MustParseAddr(s)) {
			t.Errorf("%s is not special", s)
		}
	}
	for _, s := range []string{"93.184.216.34", "8.8.8.8", "2606:4700::1111"} {
		if special(netip.MustParseAddr(s)) {
			t.Errorf("%s is special", s)
		}
	}
}

// testClient returns a client whose resolver maps every *.test name to
// 127.0.0.1.
func testClient(t *testing.T, protected ...string) *Client {
	t.Helper()
	c, err := New(Config{
		Protected: protected,
		Resolver: func(ctx context.Context, host string) ([]netip.Addr, error) {
			if strings.HasSuffix(host, ".test") {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdle)
	return c
}

func get(t *testing.T, c *Client, p *Policy, u string) (*Response, error) {
	t.Helper()
	pp := p.WithDefaults()
	r, err := c.Do(context.Background(), &pp, &Request{Method: "GET", URL: u})
	if err == nil {
		t.Cleanup(func() { r.Close() })
	}
	return r, err
}

func TestSSRF(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	c := testClient(t)

	// A hostname resolving to 127.0.0.1 is refused when only the name is listed.
	p := &Policy{Allow: mustList(t, "http://svc.test:"+port)}
	_, err := get(t, c, p, "http://svc.test:"+port+"/")
	if !errors.Is(err, ErrBlockedAddr) {
		t.Fatalf("hostname -> 127.0.0.1: got %v, want ErrBlockedAddr", err)
	}
	var de *DeniedError
	if !errors.As(err, &de) || !strings.Contains(de.URL, "svc.test") || !strings.Contains(de.URL, "127.0.0.1:"+port) {
		t.Fatalf("the refusal does not name the host and address: %v", err)
	}
	// ... and allowed when the address and port are listed too.
	p = &Policy{Allow: mustList(t, "http://svc.test:"+port, "http://127.0.0.1:"+port)}
	r, err := get(t, c, p, "http://svc.test:"+port+"/")
	if err != nil || r.Status != 200 {
		t.Fatalf("allowed by address: %v", err)
	}
	// A wildcard with the address allowed.
	p = &Policy{Allow: mustList(t, "http://*.test:"+port, "http://127.0.0.1:"+port)}
	if _, err := get(t, c, p, "http://a.b.test:"+port+"/"); err != nil {
		t.Fatalf("wildcard: %v", err)
	}
	// The address rule on another port does not open this one.
	p = &Policy{Allow: mustList(t, "http://svc.test:"+port, "http://127.0.0.1:1")}
	if _, err := get(t, c, p, "http://svc.test:"+port+"/"); !errors.Is(err, ErrBlockedAddr) {
		t.Fatalf("address allowed on another port: got %v", err)
	}
	// Not on the list at all.
	if _, err := get(t, c, p, "http://other.test:"+port+"/"); !errors.Is(err, ErrDenied) {
		t.Fatalf("unlisted: got %v", err)
	}
}

func TestAdminPortNeverReachable(t *testing.T) {
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the admin port was reached")
	}))
	defer admin.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	adminAddr := strings.TrimPrefix(admin.URL, "http://")
	_, adminPort, _ := net.SplitHostPort(adminAddr)
	c := testClient(t, adminAddr)
	otherURL := other.URL
	_, otherPort, _ := net.SplitHostPort(strings.TrimPrefix(otherURL, "http://"))

	// 127.0.0.1 allowed on another port: that port works, the admin port not.
	p := &Policy{Allow: mustList(t, "http://127.0.0.1:"+otherPort, "http://localhost.test:"+adminPort)}
	if _, err := get(t, c, p, otherURL+"/"); err != nil {
		t.Fatalf("allowed port: %v", err)
	}
	if _, err := get(t, c, p, "http://127.0.0.1:"+adminPort+"/"); !errors.Is(err, ErrDenied) {
		t.Fatalf("admin port not listed: got %v", err)
	}
	// Even listed by address, the admin port stays out of reach.
	p = &Policy{Allow: mustList(t, "http://127.0.0.1:"+adminPort, "http://localhost.test:"+adminPort)}
	for _, u := range []string{"http://127.0.0.1:" + adminPort + "/", "http://localhost.test:" + adminPort + "/"} {
		if _, err := get(t, c, p, u); !errors.Is(err, ErrBlockedAddr) {
			t.Fatalf("%s: got %v, want ErrBlockedAddr", u, err)
		}
	}
}

func TestRedirectChecked(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "target") }))
	defer target.Close()
	var hops int
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, target.URL+"/", http.StatusFound)
		case "/final":
			io.WriteString(w, "final")
		case "/loop":
			hops++
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			http.Redirect(w, r, "/final", http.StatusFound)
		}
	}))
	defer redir.Close()
	c := testClient(t)
	p := &Policy{Allow: mustList(t, redir.URL)}
	// A redirect within the list is followed.
	r, err := get(t, c, p, redir.URL+"/start")
	if err != nil || r.Status != 200 {
		t.Fatalf("same-host redirect: %v", err)
	}
	// A redirect to a host not on the list is refused, naming it.
	_, err = get(t, c, p, redir.URL+"/away")
	var de *DeniedError
	if !errors.As(err, &de) || !errors.Is(err, ErrDenied) || !strings.Contains(de.URL, strings.TrimPrefix(target.URL, "http://")) {
		t.Fatalf("redirect to an unlisted host: got %v", err)
	}
	// Redirect loops stop at the limit.
	if _, err := get(t, c, p, redir.URL+"/loop"); !errors.Is(err, ErrRedirects) {
		t.Fatalf("loop: got %v", err)
	}
	if hops > DefaultMaxRedirects+1 {
		t.Fatalf("%d hops followed", hops)
	}
}

func TestBusyAtNodeLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") }))
	defer srv.Close()
	c, err := New(Config{MaxConcurrent: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	p := &Policy{Allow: mustList(t, srv.URL)}
	r, err := get(t, c, p, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, c, p, srv.URL); !errors.Is(err, ErrBusy) {
		t.Fatalf("second request in flight: got %v, want ErrBusy", err)
	}
	r.Close()
	if _, err := get(t, c, p, srv.URL); err != nil {
		t.Fatalf("after close: %v", err)
	}
}

// Each request counts once, whether refused before sending, refused at a
// redirect hop, or answered.
func TestMetricsCountEachRequestOnce(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			http.Redirect(w, r, target.URL, http.StatusFound)
		}
	}))
	defer srv.Close()
	c := testClient(t)
	p := &Policy{Function: "f", Allow: mustList(t, srv.URL)}
	r, err := get(t, c, p, srv.URL+"/ok")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := get(t, c, p, srv.URL+"/away"); !errors.Is(err, ErrDenied) {
		t.Fatal(err)
	}
	if _, err := get(t, c, p, "http://127.0.0.1:1/"); !errors.Is(err, ErrDenied) {
		t.Fatal(err)
	}
	var b strings.Builder
	c.WriteMetrics(&b)
	for _, want := range []string{
		`wedge_outbound_requests_total{function="f",host="127.0.0.1"} 3`,
		`wedge_outbound_errors_total{function="f",host="127.0.0.1",kind="denied"} 2`,
		`wedge_outbound_duration_seconds_count{function="f",host="127.0.0.1"} 2`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, b.String())
		}
	}
}
