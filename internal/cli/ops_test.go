package cli_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/testutil"
)

// writeSelfSigned writes a self-signed certificate for name, with serial.
func writeSelfSigned(t *testing.T, certFile, keyFile, name string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func servedSerial(t *testing.T, addr, name string) int64 {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: name, InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS to %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// run runs a client command and returns its stdout and stderr apart.
func run(t *testing.T, d *daemon, token string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(wedgeBinary(t), args...)
	cmd.Env = append(os.Environ(), "WEDGE_ADMIN="+d.admin, "WEDGE_ADMIN_TOKEN="+token)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// TestBinaryTokensAuditAndHTTPS drives the operator's commands through
// the binary: a scoped token created, used, refused, listed with its
// last use and revoked; the audit log; HTTPS from certificate files and
// their reload on SIGHUP.
func TestBinaryTokensAuditAndHTTPS(t *testing.T) {
	data, certDir := t.TempDir(), t.TempDir()
	cert, key := filepath.Join(certDir, "c.pem"), filepath.Join(certDir, "c.key")
	writeSelfSigned(t, cert, key, "app.test", 100)
	d := serve(t, data, "--https", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, "--hsts")
	m := regexp.MustCompile(`public HTTPS\s+https://(\S+)`).FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("no HTTPS address printed:\n%s", d.out)
	}
	httpsAddr := m[1]
	tokenBytes, _ := os.ReadFile(filepath.Join(data, "admin-token"))
	admin := strings.TrimSpace(string(tokenBytes))

	secret, stderr, err := run(t, d, admin, "tokens", "create", "ci", "--scope", "read", "--functions", "chat-*")
	if err != nil {
		t.Fatalf("tokens create: %v\n%s", err, stderr)
	}
	secret = strings.TrimSpace(secret)
	if !strings.HasPrefix(secret, "wedge_") || !strings.Contains(stderr, "shown only this once") {
		t.Fatalf("tokens create printed %q, %q", secret, stderr)
	}
	if out, _, err := run(t, d, secret, "ls"); err != nil {
		t.Fatalf("ls with the read token: %v\n%s", err, out)
	}
	_, stderr, err = run(t, d, secret, "rm", "chat-x")
	if err == nil || !strings.Contains(stderr, `token "ci" (scope read)`) {
		t.Fatalf("rm with a read token: %v %s", err, stderr)
	}
	out, _, err := run(t, d, admin, "tokens", "list", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var toks []struct {
		Name, Scope, Functions string
		LastUsed               *time.Time `json:"last_used"`
	}
	if err := json.Unmarshal([]byte(out), &toks); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(toks) != 2 || toks[0].Name != "admin" || toks[1].Name != "ci" || toks[1].Functions != "chat-*" || toks[1].LastUsed == nil {
		t.Fatalf("tokens list: %s", out)
	}
	out, _, err = run(t, d, admin, "audit", "--token-name", "ci")
	if err != nil {
		t.Fatal(err)
	}
	testutil.Contains(t, out, "GET     /v1/functions", "DELETE  /v1/functions/chat-x  403")
	if _, stderr, err := run(t, d, admin, "tokens", "revoke", "ci"); err != nil {
		t.Fatalf("revoke: %v %s", err, stderr)
	}
	if _, stderr, err := run(t, d, secret, "ls"); err == nil || !strings.Contains(stderr, "401: the token from WEDGE_ADMIN_TOKEN was refused by "+d.admin) {
		t.Fatalf("ls with a revoked token: %v %s", err, stderr)
	}

	// HTTPS from the files, and a renewal taken on SIGHUP.
	if got := servedSerial(t, httpsAddr, "app.test"); got != 100 {
		t.Fatalf("served certificate %d, want 100", got)
	}
	writeSelfSigned(t, cert, key, "app.test", 101)
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the renewed certificate", func() bool { return servedSerial(t, httpsAddr, "app.test") == 101 })
	d.stop(t)
}
