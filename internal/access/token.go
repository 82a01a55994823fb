package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// Scope is what a token may do.
type Scope string

// The scopes, from least to most.
const (
	ScopeRead   Scope = "read"
	ScopeKV     Scope = "kv"
	ScopeDeploy Scope = "deploy"
	ScopeAdmin  Scope = "admin"
)

// AdminName is the name of the node's first token (its admin-token file
// or --admin-token).
const AdminName = "admin"

// SecretPrefix starts every secret NewSecret makes, so that secret
// scanners and people recognize one.
const SecretPrefix = "wedge_"

var (
	// ErrInvalid reports a malformed token name, scope or pattern.
	ErrInvalid = errors.New("invalid token")
	// ErrExists reports a token name already in use.
	ErrExists = errors.New("token exists")
	// ErrNotFound reports an unknown token name.
	ErrNotFound = errors.New("no such token")
	// ErrForbidden reports a request outside the token's scope.
	ErrForbidden = errors.New("forbidden")
)

// Token is a stored admin token. Hash is never shown by the API.
type Token struct {
	Name      string    `json:"name"`
	Scope     Scope     `json:"scope"`
	Functions string    `json:"functions,omitempty"`
	Hash      string    `json:"hash,omitempty"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by,omitempty"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate checks a token's name, scope and pattern.
func (t Token) Validate() error {
	if !nameRE.MatchString(t.Name) {
		return fmt.Errorf("%w name %q: use 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit", ErrInvalid, t.Name)
	}
	if t.Name == AdminName {
		return fmt.Errorf("%w name %q: reserved for the node's own admin token", ErrInvalid, t.Name)
	}
	switch t.Scope {
	case ScopeRead, ScopeKV, ScopeDeploy, ScopeAdmin:
	default:
		return fmt.Errorf("%w scope %q: use read, kv, deploy or admin", ErrInvalid, t.Scope)
	}
	if t.Functions != "" {
		if _, err := path.Match(t.Functions, "x"); err != nil || strings.Contains(t.Functions, "/") {
			return fmt.Errorf("%w functions pattern %q: use a glob of function names (*, ?, [a-z])", ErrInvalid, t.Functions)
		}
	}
	return nil
}

// NewSecret returns a new secret: SecretPrefix and 32 random bytes in
// unpadded base64url.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("access: no randomness: " + err.Error())
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash is the stored form of a secret: hex SHA-256. A secret carries 256
// random bits, so a fast hash is enough (docs/RATIONALE.md).
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Authorize says whether t may make a request of method on path, and if
// not, why, as an ErrForbidden.
func Authorize(t Token, method, p string) error {
	if t.Scope == ScopeAdmin {
		return nil
	}
	if adminOnly(p) {
		return forbidden(t, "%s %s needs the admin scope", method, p)
	}
	if name, ok := functionOf(p); ok && t.Functions != "" {
		if m, _ := path.Match(t.Functions, name); !m {
			return forbidden(t, "it may act only on functions matching %q, not %q", t.Functions, name)
		}
	}
	read := method == "GET" || method == "HEAD"
	kvPath := p == "/v1/kv" || strings.HasPrefix(p, "/v1/kv/")
	switch t.Scope {
	case ScopeRead:
		if read {
			return nil
		}
		return forbidden(t, "the read scope allows GET only")
	case ScopeKV:
		if kvPath {
			return nil
		}
		return forbidden(t, "the kv scope allows /v1/kv only")
	case ScopeDeploy:
		if read {
			return nil
		}
		if _, ok := functionOf(p); ok && (method == "PUT" || method == "POST" || method == "DELETE") {
			return nil
		}
		return forbidden(t, "the deploy scope allows reads and function or app deploys and deletes only")
	}
	return forbidden(t, "unknown scope %q", t.Scope)
}

// Sees reports whether t may see the function name: every function, or
// with a functions pattern only those it matches. Listings filter by it.
func (t Token) Sees(name string) bool {
	if t.Functions == "" {
		return true
	}
	m, _ := path.Match(t.Functions, name)
	return m
}

func forbidden(t Token, format string, args ...any) error {
	return fmt.Errorf("%w: token %q (scope %s): %s", ErrForbidden, t.Name, t.Scope, fmt.Sprintf(format, args...))
}

// adminOnly are the paths whose every method needs the admin scope: they
// hold or change credentials, or show who did what.
func adminOnly(p string) bool {
	for _, pre := range []string{"/v1/tokens", "/v1/audit", "/v1/cluster/keys"} {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}

// functionOf returns the function or app a function-scoped path names:
// /v1/functions/{name}[/...] or /v1/apps/{app}[/...].
func functionOf(p string) (string, bool) {
	for _, pre := range []string{"/v1/functions/", "/v1/apps/"} {
		if rest, ok := strings.CutPrefix(p, pre); ok {
			name, _, _ := strings.Cut(rest, "/")
			if name != "" {
				return name, true
			}
		}
	}
	return "", false
}
