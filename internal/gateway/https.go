package gateway

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/model"
)

// The public gateway's HTTPS listener serves the same functions as its
// HTTP one, with the certificates of Config.TLS (internal/certs picks
// them by SNI and reloads them). HTTP/2 is not offered: fasthttp speaks
// HTTP/1.1 only (docs/RATIONALE.md).

// hstsValue is sent on HTTPS responses with Config.HSTS: one year.
const hstsValue = "max-age=31536000"

// newHTTPS builds the HTTPS server, a twin of the public one.
func (s *Server) newHTTPS() *fasthttp.Server {
	h := &fasthttp.Server{
		Handler:            s.recovering("https", s.serveHTTPS),
		Name:               s.public.Name,
		MaxRequestBodySize: s.public.MaxRequestBodySize,
		ReadTimeout:        s.public.ReadTimeout,
		WriteTimeout:       s.public.WriteTimeout,
		IdleTimeout:        s.public.IdleTimeout,
		ErrorHandler:       s.publicError,
		Logger:             s.public.Logger,
	}
	return h
}

// listenHTTPS opens the TLS listener: TLS under the bare-LF guard, which
// must see the decrypted request heads.
func (s *Server) listenHTTPS() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.cfg.HTTPSAddr)
	if err != nil {
		return nil, fmt.Errorf("public gateway (HTTPS): %w", err)
	}
	return headGuardListener{tls.NewListener(ln, s.cfg.TLS)}, nil
}

// HTTPSAddr is the HTTPS listener's bound address ("" without one).
func (s *Server) HTTPSAddr() string {
	if s.httpsLn == nil {
		return ""
	}
	return s.httpsLn.Addr().String()
}

// serveHTTPS serves a request that came over TLS.
func (s *Server) serveHTTPS(ctx *fasthttp.RequestCtx) {
	s.servePublic(ctx)
	if s.cfg.HSTS && len(ctx.Response.Header.Peek("Strict-Transport-Security")) == 0 {
		ctx.Response.Header.Set("Strict-Transport-Security", hstsValue)
	}
}

// servePlain serves a request that came over plain HTTP when TLS
// features are on: ACME HTTP-01 challenges first, then the redirect of
// the hosts that must use HTTPS, then the functions. A request another
// node forwarded is never redirected (it may have come in over TLS
// there).
func (s *Server) servePlain(ctx *fasthttp.RequestCtx) {
	if s.cfg.Challenge != nil && s.cfg.Challenge(ctx) {
		return
	}
	if len(s.redirect) > 0 && len(ctx.Request.Header.Peek(hopHeader)) == 0 && s.redirects(ctx.Host()) {
		s.redirectHTTPS(ctx)
		return
	}
	s.servePublic(ctx)
}

// redirects reports whether requests for host go to HTTPS: an exact
// name, a wildcard (*.example.com: its subdomains) or "*" (every host).
func (s *Server) redirects(rawHost []byte) bool {
	var buf [256]byte
	host := string(model.CanonicalHost(buf[:0], rawHost))
	for _, r := range s.redirect {
		switch {
		case r == "*", r == host:
			return true
		case strings.HasPrefix(r, "*.") && strings.HasSuffix(host, r[1:]) && len(host) > len(r)-1:
			return true
		}
	}
	return false
}

// redirectHTTPS answers 308 to the same URL over HTTPS, on the HTTPS
// listener's port (none in the URL for 443).
func (s *Server) redirectHTTPS(ctx *fasthttp.RequestCtx) {
	var buf [256]byte
	host := string(model.CanonicalHost(buf[:0], ctx.Host()))
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	if _, port, err := net.SplitHostPort(s.HTTPSAddr()); err == nil && port != "443" {
		host += ":" + port
	}
	ctx.Response.Header.Set("Location", "https://"+host+string(ctx.RequestURI()))
	ctx.Response.Header.Set("Content-Type", "text/plain; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusPermanentRedirect)
	fmt.Fprintf(ctx, "this host is served over HTTPS\n")
}
