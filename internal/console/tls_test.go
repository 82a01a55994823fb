package console

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wedge-run/wedge/internal/access"
	"github.com/wedge-run/wedge/internal/gateway"
)

// TestSessionCookieIsSecureOverTLS: served over TLS, the session cookie
// is marked Secure (over plain HTTP, TestConsoleSessionActsAsTheToken
// checks it is not, or the browser would drop it).
func TestSessionCookieIsSecureOverTLS(t *testing.T) {
	admin := access.Token{Name: access.AdminName, Scope: access.ScopeAdmin}
	toks := map[string]access.Token{access.Hash("t"): admin}
	c := New(Options{
		LookupToken: func(secret string) (access.Token, bool) { tok, ok := toks[access.Hash(secret)]; return tok, ok },
		TokenByHash: func(h string) (access.Token, bool) { tok, ok := toks[h]; return tok, ok },
		KV:          testSessions(t, &testClock{time.Now()}, toks).kv,
		Counters:    func() map[string]gateway.FunctionCounters { return nil }})
	defer c.Close()
	certPEM, keyPEM := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: c.serve}
	go srv.ServeTLSEmbed(ln, certPEM, keyPEM)
	defer srv.Shutdown()
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, _ := http.NewRequest("POST", "https://"+ln.Addr().String()+"/console/session", strings.NewReader(`{"token":"t"}`))
	req.Header.Set(csrfHeader, "1")
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookies := res.Cookies()
	if res.StatusCode != 200 || len(cookies) != 1 || !cookies[0].Secure || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("over TLS: %d, cookies %v; want one Secure, HttpOnly, SameSite=Strict cookie", res.StatusCode, res.Header.Values("Set-Cookie"))
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}
