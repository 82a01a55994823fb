package node

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wedge-run/wedge/internal/certs"
	"github.com/wedge-run/wedge/internal/cluster"
	"github.com/wedge-run/wedge/internal/gateway"
)

// TLSConfig is the public gateway's HTTPS: its listener, certificates
// from files or ACME, the redirect of plain HTTP and HSTS.
type TLSConfig struct {
	HTTPSAddr string       // HTTPS listen address; empty: no HTTPS
	Certs     []certs.Pair // certificate and key files, chosen by SNI
	// ReloadEvery is how often the files' modification times are
	// checked; default 5s. ReloadTLS reloads at once (SIGHUP).
	ReloadEvery time.Duration

	ACMEDomains   []string     // obtain certificates for these names through ACME (HTTP-01)
	ACMEEmail     string       // contact for the CA
	ACMEDirectory string       // the CA's directory URL; default Let's Encrypt's
	ACMEClient    *http.Client // talks to the CA (tests: a local CA's roots)

	RedirectHTTPS []string // hosts redirected from HTTP to HTTPS: names, *.domain, or *
	HSTS          bool     // Strict-Transport-Security on HTTPS responses
}

// tlsGateway loads the certificates and fills the gateway's TLS
// settings.
func (n *Node) tlsGateway(gc *gateway.Config) error {
	c := n.Config.TLS
	if c.HTTPSAddr == "" {
		if len(c.Certs) > 0 || len(c.ACMEDomains) > 0 || len(c.RedirectHTTPS) > 0 {
			return errors.New("node: certificates, ACME and HTTPS redirects need an HTTPS address (--https)")
		}
		return nil
	}
	sel := &certs.Selector{}
	if len(c.Certs) > 0 {
		f, err := certs.LoadFiles(c.Certs, n.Config.Log)
		if err != nil {
			return err
		}
		sel.Files, n.certFiles = f, f
	}
	if len(c.ACMEDomains) > 0 {
		cache := &certs.Cache{KV: n.KV, Sealer: n.acmeSealer}
		sel.ACME = certs.NewManager(certs.ACME{Domains: c.ACMEDomains, Email: c.ACMEEmail,
			DirectoryURL: c.ACMEDirectory, HTTPClient: c.ACMEClient, Cache: cache, Log: n.Config.Log})
		gc.Challenge = sel.ACME.ServeChallenge
	}
	if sel.Files == nil && sel.ACME == nil {
		return errors.New("node: HTTPS needs certificates: --tls-cert and --tls-key, or --acme-domain")
	}
	gc.HTTPSAddr, gc.TLS, gc.RedirectHTTPS, gc.HSTS = c.HTTPSAddr, sel.TLSConfig(), c.RedirectHTTPS, c.HSTS
	return nil
}

// watchCerts reloads the certificate files when they change, until the
// node closes.
func (n *Node) watchCerts() {
	if n.certFiles == nil {
		return
	}
	every := n.Config.TLS.ReloadEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); n.certFiles.Watch(every, stop) }()
	n.closers = append(n.closers, func() error { close(stop); <-done; return nil })
}

// ReloadTLS reads the certificate files again (wedge serve calls it on
// SIGHUP). Without files it does nothing.
func (n *Node) ReloadTLS() error {
	if n.certFiles == nil {
		return nil
	}
	return n.certFiles.Reload()
}

// HTTPSURL is the HTTPS listener's URL ("" without one).
func (n *Node) HTTPSURL() string {
	if a := n.Gateway.HTTPSAddr(); a != "" {
		return "https://" + a
	}
	return ""
}

// acmeSealer seals the ACME cache's values in a cluster.
func (n *Node) acmeSealer() certs.Sealer {
	if n.Cluster == nil {
		return nil
	}
	return n.Cluster
}

// checkACMESealing refuses ACME in a cluster without a key: the cache
// holds private keys, which replicate only sealed.
func (n *Node) checkACMESealing() error {
	if len(n.Config.TLS.ACMEDomains) == 0 || n.Cluster == nil {
		return nil
	}
	if _, err := n.Cluster.Seal([]byte("probe"), nil); errors.Is(err, cluster.ErrNotEncrypted) {
		return fmt.Errorf("node: ACME in a cluster needs a cluster key (--cluster-key): the certificates' private keys replicate to the other nodes, sealed with it")
	}
	return nil
}
