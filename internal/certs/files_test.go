package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var serial int64

// selfSigned writes a self-signed certificate for names and its key.
func selfSigned(t *testing.T, dir, base string, names ...string) (Pair, int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	p := Pair{Cert: filepath.Join(dir, base+".pem"), Key: filepath.Join(dir, base+".key")}
	os.WriteFile(p.Key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	os.WriteFile(p.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	return p, serial
}

func TestFilesLookupAndReload(t *testing.T) {
	dir := t.TempDir()
	a, sa := selfSigned(t, dir, "a", "a.example")
	w, sw := selfSigned(t, dir, "w", "*.w.example", "w.example")
	f, err := LoadFiles([]Pair{a, w}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		serial  int64
		covered bool
	}{
		{"a.example", sa, true}, {"A.Example.", sa, true}, {"w.example", sw, true}, {"x.w.example", sw, true},
		{"y.x.w.example", sa, false}, // a wildcard covers one label, as clients check it
		{"", sa, false}, {"other", sa, false},
	} {
		got, covered := f.Lookup(c.name)
		if got.Leaf.SerialNumber.Int64() != c.serial || covered != c.covered {
			t.Errorf("%q: certificate %d covered %v, want %d %v", c.name, got.Leaf.SerialNumber.Int64(), covered, c.serial, c.covered)
		}
	}
	// Reload alone (no watcher) serves the new files.
	_, sa2 := selfSigned(t, dir, "a", "a.example")
	if err := f.Reload(); err != nil {
		t.Fatal(err)
	}
	got, _ := f.GetCertificate(&tls.ClientHelloInfo{ServerName: "a.example"})
	if got.Leaf.SerialNumber.Int64() != sa2 {
		t.Fatalf("after Reload: %d, want %d", got.Leaf.SerialNumber.Int64(), sa2)
	}
	// The watcher picks a change up by itself.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); f.Watch(5*time.Millisecond, stop) }()
	defer func() { close(stop); <-done }()
	_, sa3 := selfSigned(t, dir, "a", "a.example")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, _ := f.Lookup("a.example"); c.Leaf.SerialNumber.Int64() == sa3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not reload")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
