package node_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/certs"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

// testCA is a certificate authority made in the test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	n    int64
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wedge test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool, n: 1}
}

// issue writes a certificate for names, signed by the CA, and its key
// into certFile and keyFile (the key first, as an operator's renewal
// script would, so that a reload can see a cert that does not match its
// key for a moment) and returns its serial number.
func (ca *testCA) issue(t *testing.T, certFile, keyFile string, names ...string) int64 {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca.n++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.n), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	write := func(path string, block *pem.Block) {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(keyFile, &pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	write(certFile, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	return ca.n
}

// httpsClient reaches addr whatever the URL's host, trusting only ca,
// and follows no redirect.
func httpsClient(ca *testCA, addr string) *http.Client {
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: ca.pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type served struct {
	status int
	body   string
	serial int64
	hdr    http.Header
}

func fetch(t *testing.T, c *http.Client, url string) served {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	s := served{status: resp.StatusCode, body: string(b), hdr: resp.Header}
	if resp.TLS != nil {
		s.serial = resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	return s
}

// TestHTTPSWithSNIAndHostRoutes: one HTTPS listener serves two hosts,
// each with its own certificate (verified against the test's CA, so a
// wrong certificate fails the handshake), and host routing sends each to
// its function; plain HTTP for a redirected host gets a 308 to HTTPS,
// HTTPS answers carry HSTS; rewritten certificate files are served
// without a restart, picked up by the watcher and by ReloadTLS.
func TestHTTPSWithSNIAndHostRoutes(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	aCert, aKey := filepath.Join(dir, "a.pem"), filepath.Join(dir, "a.key")
	bCert, bKey := filepath.Join(dir, "b.pem"), filepath.Join(dir, "b.key")
	aSerial := ca.issue(t, aCert, aKey, "a.test")
	bSerial := ca.issue(t, bCert, bKey, "b.test", "*.b.test")
	n := testutil.StartNode(t, "", func(c *node.Config) {
		c.TLS = node.TLSConfig{HTTPSAddr: "127.0.0.1:0", Certs: []certs.Pair{{Cert: aCert, Key: aKey}, {Cert: bCert, Key: bKey}},
			ReloadEvery: 20 * time.Millisecond, RedirectHTTPS: []string{"a.test"}, HSTS: true}
	})
	deploy(t, n, "site-a", text(t, "A"), "a.test/...")
	deploy(t, n, "site-b", text(t, "B"), "*.b.test/...", "b.test/...")
	deploy(t, n, "default", text(t, "any"), "/...")
	_, port, _ := net.SplitHostPort(n.Gateway.HTTPSAddr())
	hc := httpsClient(ca, n.Gateway.HTTPSAddr())

	for _, c := range []struct {
		url, body string
		serial    int64
	}{
		{"https://a.test/x", "A", aSerial},
		{"https://b.test/", "B", bSerial},
		{"https://api.b.test/v1", "B", bSerial},
	} {
		got := fetch(t, hc, c.url)
		if got.status != 200 || got.body != c.body || got.serial != c.serial {
			t.Errorf("%s: %d %q with certificate %d, want %q with %d", c.url, got.status, got.body, got.serial, c.body, c.serial)
		}
		if got.hdr.Get("Strict-Transport-Security") == "" {
			t.Errorf("%s: no HSTS header", c.url)
		}
	}

	// Plain HTTP: a.test is redirected to the HTTPS port, b.test and
	// other hosts are served.
	plain := httpsClient(ca, n.Gateway.PublicAddr())
	got := fetch(t, plain, "http://a.test/x?q=1")
	if got.status != http.StatusPermanentRedirect || got.hdr.Get("Location") != "https://a.test:"+port+"/x?q=1" {
		t.Errorf("http://a.test/x: %d Location %q", got.status, got.hdr.Get("Location"))
	}
	if got := fetch(t, plain, "http://b.test/"); got.status != 200 || got.body != "B" || got.hdr.Get("Strict-Transport-Security") != "" {
		t.Errorf("http://b.test/: %d %q hsts %q", got.status, got.body, got.hdr.Get("Strict-Transport-Security"))
	}
	if got := fetch(t, plain, "http://localhost/"); got.body != "any" {
		t.Errorf("http://localhost/: %q", got.body)
	}

	// Renewal: new files are served without a restart (the watcher).
	renewed := ca.issue(t, aCert, aKey, "a.test")
	testutil.Eventually(t, 10*time.Second, "the renewed certificate served", func() bool {
		return fetch(t, hc, "https://a.test/").serial == renewed
	})
	// And at once on ReloadTLS (SIGHUP; the watcher may be first, the
	// unit test in internal/certs checks Reload alone).
	again := ca.issue(t, bCert, bKey, "b.test", "*.b.test")
	if err := n.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, hc, "https://b.test/"); got.serial != again {
		t.Errorf("after ReloadTLS: certificate %d, want %d", got.serial, again)
	}
	// A half-written pair (a key that does not match the certificate)
	// leaves the served certificate in place.
	if err := os.WriteFile(aKey, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.ReloadTLS(); err == nil {
		t.Fatal("ReloadTLS accepted a broken key")
	}
	if got := fetch(t, hc, "https://a.test/"); got.serial != renewed || got.body != "A" {
		t.Errorf("after a failed reload: certificate %d %q, want %d", got.serial, got.body, renewed)
	}
}
