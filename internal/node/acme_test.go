package node_test

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/letsencrypt/challtestsrv"
	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"

	"github.com/wedge-run/wedge/internal/certs"
	"github.com/wedge-run/wedge/internal/node"
	"github.com/wedge-run/wedge/internal/testutil"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPebble runs Let's Encrypt's test CA in the process: its ACME
// server (over TLS, trusted by the returned server's client), and a DNS
// server that resolves every name to 127.0.0.1, which its validation
// authority asks. HTTP-01 validations go to httpPort; TLS-ALPN-01 ones
// to a closed port, so that only HTTP-01 can succeed.
func startPebble(t *testing.T, httpPort int) *httptest.Server {
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	dnsAddr := freeAddr(t)
	logger := log.New(io.Discard, "", 0)
	chall, err := challtestsrv.New(challtestsrv.Config{DNSAddrs: []string{dnsAddr}, Log: logger})
	if err != nil {
		t.Fatal(err)
	}
	chall.SetDefaultDNSIPv4("127.0.0.1")
	chall.SetDefaultDNSIPv6("")
	chall.Run()
	t.Cleanup(chall.Shutdown)
	_, closed, _ := net.SplitHostPort(freeAddr(t))
	tlsPort, _ := strconv.Atoi(closed)
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	validator := va.New(logger, httpPort, tlsPort, false, dnsAddr, store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 3, 5)
	srv := httptest.NewTLSServer(front.Handler())
	t.Cleanup(srv.Close)
	// Wait for the DNS server to answer.
	testutil.Eventually(t, 5*time.Second, "the test DNS server", func() bool {
		c, err := net.Dial("tcp", dnsAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return srv
}

func servedCert(t *testing.T, addr, name string) (serial, issuer string, err error) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 60 * time.Second}, "tcp", addr, &tls.Config{ServerName: name, InsecureSkipVerify: true})
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	leaf := c.ConnectionState().PeerCertificates[0]
	return leaf.SerialNumber.String(), leaf.Issuer.CommonName, nil
}

// TestACMEAgainstPebble obtains a certificate from a local ACME CA
// (pebble, as a library) over HTTP-01 on the public port, and checks
// that the second node of a cluster serves the same certificate from
// the replicated cache, without asking the CA.
func TestACMEAgainstPebble(t *testing.T) {
	publicAddr := freeAddr(t)
	_, portStr, _ := net.SplitHostPort(publicAddr)
	port, _ := strconv.Atoi(portStr)
	pebble := startPebble(t, port)
	acmeCfg := func(c *node.Config) {
		c.TLS = node.TLSConfig{HTTPSAddr: "127.0.0.1:0", ACMEDomains: []string{"app.test"}, ACMEEmail: "ops@app.test",
			ACMEDirectory: pebble.URL + "/dir", ACMEClient: pebble.Client()}
	}
	n1 := testutil.StartNode(t, "", func(c *node.Config) {
		c.NodeName, c.GossipAddr, c.ClusterPreset, c.ClusterKey = "n1", "127.0.0.1:0", "local", testKey
		c.HTTPAddr = publicAddr
		acmeCfg(c)
	})
	deploy(t, n1, "app", text(t, "over acme"), "app.test/...")

	serial, issuer, err := servedCert(t, n1.Gateway.HTTPSAddr(), "app.test")
	if err != nil {
		t.Fatalf("handshake with n1 (the certificate is obtained during it): %v", err)
	}
	if !strings.Contains(issuer, "Pebble") {
		t.Fatalf("n1 served a certificate issued by %q", issuer)
	}
	// The cache holds it, sealed: no private key in the clear in KV.
	e, err := n1.KV.Get(certs.CacheNamespace, "app.test")
	if err != nil || len(e.Value) == 0 || e.Value[0] != 's' || strings.Contains(string(e.Value), "PRIVATE KEY") {
		t.Fatalf("cached certificate: %v, %.20q", err, e.Value)
	}

	// A second node joins: it gets the cache by replication and serves
	// the same certificate (the serial tells: one it obtained itself
	// would have another).
	n2 := testutil.StartNode(t, "", func(c *node.Config) {
		c.NodeName, c.GossipAddr, c.ClusterPreset, c.ClusterKey = "n2", "127.0.0.1:0", "local", testKey
		c.Join = []string{n1.Cluster.Addr()}
		acmeCfg(c)
	})
	testutil.Eventually(t, 15*time.Second, "the certificate replicated to n2", func() bool {
		_, err := n2.KV.Get(certs.CacheNamespace, "app.test")
		return err == nil
	})
	serial2, _, err := servedCert(t, n2.Gateway.HTTPSAddr(), "app.test")
	if err != nil || serial2 != serial {
		t.Fatalf("n2 served certificate %s (%v), want n1's %s", serial2, err, serial)
	}
}
