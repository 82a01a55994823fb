package access

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Entry is one admin request in the audit log.
type Entry struct {
	Time   time.Time `json:"time"`
	Token  string    `json:"token"` // "" when no valid token was presented
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Status int       `json:"status"`
	Remote string    `json:"remote,omitempty"`
}

// DefaultAuditBytes is the size at which the audit log is rotated.
const DefaultAuditBytes = 16 << 20

// Audit is the append-only audit log of a node's admin API.
type Audit struct {
	path     string
	maxBytes int64

	mu       sync.Mutex
	f        *os.File
	size     int64
	lastUse  map[string]time.Time
	writeErr error
}

// OpenAudit opens (or creates) dir/audit.log. maxBytes <= 0 means
// DefaultAuditBytes. Tokens' last use is rebuilt from what the log holds.
func OpenAudit(dir string, maxBytes int64) (*Audit, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultAuditBytes
	}
	a := &Audit{path: filepath.Join(dir, "audit.log"), maxBytes: maxBytes, lastUse: map[string]time.Time{}}
	for _, p := range []string{a.path + ".1", a.path} {
		_ = scan(p, func(e Entry) {
			if e.Token != "" && e.Time.After(a.lastUse[e.Token]) {
				a.lastUse[e.Token] = e.Time
			}
		})
	}
	if err := a.open(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Audit) open() error {
	f, err := os.OpenFile(a.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	a.f, a.size = f, st.Size()
	return nil
}

// Close closes the file.
func (a *Audit) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// Record appends e, rotating the file first when it is full. A write
// error is kept (Err) and the request it records still proceeds: the
// audit log must not take the admin API down with a full disk.
func (a *Audit) Record(e Entry) {
	line, err := json.Marshal(e)
	if err != nil {
		return
	}
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if e.Token != "" {
		a.lastUse[e.Token] = e.Time
	}
	if a.f == nil {
		return
	}
	if a.size+int64(len(line)) > a.maxBytes && a.size > 0 {
		a.rotate()
	}
	n, err := a.f.Write(line)
	a.size += int64(n)
	if err != nil {
		a.writeErr = err
	}
}

// rotate moves the log to audit.log.1 (replacing the previous one) and
// starts a new file. Caller holds a.mu.
func (a *Audit) rotate() {
	a.f.Close()
	a.f = nil
	if err := os.Rename(a.path, a.path+".1"); err != nil {
		a.writeErr = err
	}
	if err := a.open(); err != nil {
		a.writeErr = err
	}
}

// Err returns the last write error, if any.
func (a *Audit) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.writeErr
}

// LastUse returns when the token name was last used on this node.
func (a *Audit) LastUse(name string) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastUse[name]
}

// Query filters the log.
type Query struct {
	Since time.Time // entries at or after (zero: all)
	Token string    // only this token's ("" : all)
	Limit int       // the most recent Limit entries; <= 0: 100; at most 10000
}

// Query returns the most recent entries that match q, oldest first.
func (a *Audit) Query(q Query) ([]Entry, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 10000)
	a.mu.Lock() // no rotation while reading
	defer a.mu.Unlock()
	ring := make([]Entry, 0, q.Limit)
	start := 0 // ring's oldest index once full
	for _, p := range []string{a.path + ".1", a.path} {
		err := scan(p, func(e Entry) {
			if e.Time.Before(q.Since) || q.Token != "" && e.Token != q.Token {
				return
			}
			if len(ring) < q.Limit {
				ring = append(ring, e)
				return
			}
			ring[start] = e
			start = (start + 1) % q.Limit
		})
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return append(ring[start:], ring[:start]...), nil
}

// scan calls fn with every entry of the file at p; a torn last line (a
// crash mid-write) is skipped.
func scan(p string, fn func(Entry)) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			fn(e)
		}
	}
	return sc.Err()
}
