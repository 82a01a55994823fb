package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Pair names a certificate chain file and its key file (PEM).
type Pair struct{ Cert, Key string }

// Files serves certificates loaded from pairs of files.
type Files struct {
	pairs []Pair
	log   *slog.Logger
	table atomic.Pointer[table]

	mu    sync.Mutex // serializes reloads
	stamp string     // the files' mtimes and sizes at the last load
}

type table struct {
	exact map[string]*tls.Certificate // "api.example.com"
	wild  map[string]*tls.Certificate // ".example.com" from *.example.com
	first *tls.Certificate
}

// LoadFiles reads every pair; it fails if any pair does not load.
func LoadFiles(pairs []Pair, log *slog.Logger) (*Files, error) {
	if len(pairs) == 0 {
		return nil, errors.New("certs: no certificate files")
	}
	if log == nil {
		log = slog.Default()
	}
	f := &Files{pairs: pairs, log: log}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Reload reads the files again and serves them from the next handshake
// on; on error the certificates in service stay.
func (f *Files) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	stamp := f.stampNow()
	t := &table{exact: map[string]*tls.Certificate{}, wild: map[string]*tls.Certificate{}}
	for _, p := range f.pairs {
		c, err := tls.LoadX509KeyPair(p.Cert, p.Key)
		if err != nil {
			return fmt.Errorf("certs: %s and %s: %w", p.Cert, p.Key, err)
		}
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			return fmt.Errorf("certs: %s: %w", p.Cert, err)
		}
		c.Leaf = leaf
		names := leaf.DNSNames
		if len(names) == 0 && leaf.Subject.CommonName != "" {
			names = []string{leaf.Subject.CommonName}
		}
		for _, n := range names {
			n = strings.ToLower(n)
			if suffix, ok := strings.CutPrefix(n, "*"); ok {
				if _, dup := t.wild[suffix]; !dup {
					t.wild[suffix] = &c
				}
			} else if _, dup := t.exact[n]; !dup {
				t.exact[n] = &c
			}
		}
		if t.first == nil {
			t.first = &c
		}
	}
	f.table.Store(t)
	f.stamp = stamp
	return nil
}

// stampNow describes the files' state, for change detection.
func (f *Files) stampNow() string {
	var b strings.Builder
	for _, p := range f.pairs {
		for _, name := range []string{p.Cert, p.Key} {
			if st, err := os.Stat(name); err == nil {
				fmt.Fprintf(&b, "%s %d %d\n", name, st.ModTime().UnixNano(), st.Size())
			} else {
				fmt.Fprintf(&b, "%s missing\n", name)
			}
		}
	}
	return b.String()
}

// Watch reloads the files whenever their modification times or sizes
// change, checking every interval, until stop is closed.
func (f *Files) Watch(every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		f.mu.Lock()
		changed := f.stampNow() != f.stamp
		f.mu.Unlock()
		if !changed {
			continue
		}
		if err := f.Reload(); err != nil {
			f.log.Warn("certificate files changed but do not load; the previous certificates stay in service", "err", err)
			// Remember the state that failed so that the warning is not
			// repeated every tick; the next change is tried again.
			f.mu.Lock()
			f.stamp = f.stampNow()
			f.mu.Unlock()
			continue
		}
		f.log.Info("certificates reloaded", "pairs", len(f.pairs))
	}
}

// Lookup returns the certificate for a server name, and whether one
// covers it (else the first pair's).
func (f *Files) Lookup(serverName string) (*tls.Certificate, bool) {
	t := f.table.Load()
	name := strings.TrimSuffix(strings.ToLower(serverName), ".")
	if c := t.exact[name]; c != nil {
		return c, true
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if c := t.wild[name[i:]]; c != nil {
			return c, true
		}
	}
	return t.first, false
}

// GetCertificate is tls.Config's hook.
func (f *Files) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	c, _ := f.Lookup(hello.ServerName)
	return c, nil
}
