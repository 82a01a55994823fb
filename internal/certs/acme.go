package certs

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ACME configures automatic certificates.
type ACME struct {
	Domains []string // names to obtain certificates for (HostPolicy)
	Email   string   // contact for the CA (optional)
	// DirectoryURL is the CA's directory; default Let's Encrypt's.
	DirectoryURL string
	// HTTPClient talks to the CA (a test CA's roots); default http.DefaultClient.
	HTTPClient *http.Client
	Cache      autocert.Cache
	Log        *slog.Logger
}

// ChallengePrefix is the path HTTP-01 challenges are served under.
const ChallengePrefix = "/.well-known/acme-challenge/"

// Manager obtains and renews certificates through ACME.
type Manager struct {
	m         *autocert.Manager
	challenge fasthttp.RequestHandler
	domains   map[string]bool
	log       *slog.Logger
}

// NewManager returns a manager for a's domains.
func NewManager(a ACME) *Manager {
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(a.Domains...),
		Cache:      a.Cache,
		Email:      a.Email,
	}
	if a.DirectoryURL != "" || a.HTTPClient != nil {
		m.Client = &acme.Client{DirectoryURL: a.DirectoryURL, HTTPClient: a.HTTPClient}
	}
	d := map[string]bool{}
	for _, n := range a.Domains {
		d[strings.ToLower(n)] = true
	}
	if a.Log == nil {
		a.Log = slog.Default()
	}
	return &Manager{m: m, challenge: fasthttpadaptor.NewFastHTTPHandler(m.HTTPHandler(nil)), domains: d, log: a.Log}
}

// Covers reports whether name is one of the manager's domains.
func (m *Manager) Covers(name string) bool {
	return m.domains[strings.TrimSuffix(strings.ToLower(name), ".")]
}

// ServeChallenge answers an HTTP-01 challenge request (a path under
// ChallengePrefix) and reports whether it was one.
func (m *Manager) ServeChallenge(ctx *fasthttp.RequestCtx) bool {
	if !strings.HasPrefix(string(ctx.Path()), ChallengePrefix) {
		return false
	}
	// autocert checks the Host against its domains as is: a CA (or a
	// proxy) that puts a port in it would be refused.
	if h, _, err := net.SplitHostPort(string(ctx.Host())); err == nil {
		ctx.Request.Header.SetHost(h)
		ctx.URI().SetHost(h)
	}
	m.challenge(ctx)
	return true
}

// GetCertificate obtains (or takes from the cache) the certificate for
// the ClientHello's server name.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	c, err := m.m.GetCertificate(hello)
	if err != nil {
		m.log.Warn("ACME: no certificate", "server_name", hello.ServerName, "err", err)
	}
	return c, err
}

// Selector picks a certificate for each handshake: a file pair that
// covers the server name, else ACME for its domains, else the first
// file pair. Either part may be nil.
type Selector struct {
	Files *Files
	ACME  *Manager
}

// GetCertificate is tls.Config's hook.
func (s *Selector) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if s.ACME != nil && len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto {
		return s.ACME.GetCertificate(hello) // a TLS-ALPN-01 challenge
	}
	var fallback *tls.Certificate
	if s.Files != nil {
		c, covered := s.Files.Lookup(hello.ServerName)
		if covered {
			return c, nil
		}
		fallback = c
	}
	if s.ACME != nil && (s.ACME.Covers(hello.ServerName) || fallback == nil) {
		return s.ACME.GetCertificate(hello)
	}
	return fallback, nil
}

// TLSConfig returns the listener's configuration: TLS 1.2 and up,
// HTTP/1.1 only (fasthttp has no HTTP/2; docs/RATIONALE.md), and with
// ACME the TLS-ALPN-01 protocol, which autocert answers in
// GetCertificate (CAs that try it before HTTP-01 then succeed at once
// when the HTTPS listener is on port 443).
func (s *Selector) TLSConfig() *tls.Config {
	protos := []string{"http/1.1"}
	if s.ACME != nil {
		protos = append(protos, acme.ALPNProto)
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: s.GetCertificate,
		NextProtos:     protos,
	}
}
