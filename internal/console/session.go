package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/wedge-run/wedge/internal/access"
	"github.com/wedge-run/wedge/internal/gateway"
	"github.com/wedge-run/wedge/internal/kv"
)

// cookieName names the session cookie; the gateway drops it from public
// requests (a host's cookies go to all its ports).
const cookieName = gateway.ConsoleCookie

// csrfHeader must accompany every request that changes state when it is
// authorized by the session cookie: the console's script sets it; a form
// or a cross-origin page cannot (a custom header needs a CORS preflight,
// which the admin API never answers).
const csrfHeader = "X-Wedge-Console"

// SessionsNamespace is the reserved KV namespace that keeps the console's
// sessions, so that they replicate like the tokens they stand for: a
// browser signed in on one node is signed in on every node of the
// cluster that accepts its token, and a sign-out ends it on all of them
// (docs/RATIONALE.md, "Why are console sessions kept in KV?").
const SessionsNamespace = kv.ReservedPrefix + "console-sessions"

// maxSessions bounds the sessions kept (one KV page); signing in past it
// drops the session closest to its expiry.
const maxSessions = kv.MaxListLimit

// session is a stored session, under the SHA-256 of its id (the id
// itself, the cookie's value, is kept nowhere).
type session struct {
	// Token and Hash are the name of the token the session was signed in
	// with and the hash of its secret (access.Hash): the session stands
	// for that token while a node accepts it, no longer.
	Token   string    `json:"token"`
	Hash    string    `json:"hash"`
	Expires time.Time `json:"expires"`
	Node    string    `json:"node,omitempty"` // where it signed in
}

// sessions are the signed-in browsers, kept in KV.
type sessions struct {
	kv   *kv.Store
	ttl  time.Duration
	now  func() time.Time
	node string
	// byHash finds the token a session stands for, as this node accepts
	// it now (gateway.Server.TokenByHash).
	byHash func(hash string) (access.Token, bool)
}

// create starts a session for tok, whose secret hashes to hash, and
// returns its id and expiry.
func (s *sessions) create(ctx context.Context, tok access.Token, hash string) (string, time.Time, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", time.Time{}, err
	}
	id := hex.EncodeToString(b[:])
	exp := s.now().Add(s.ttl).UTC()
	v, err := json.Marshal(session{Token: tok.Name, Hash: hash, Expires: exp, Node: s.node})
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.bound(ctx); err != nil {
		return "", time.Time{}, err
	}
	if _, err := s.kv.Put(ctx, SessionsNamespace, access.Hash(id), v, kv.PutOptions{TTL: s.ttl}); err != nil {
		return "", time.Time{}, err
	}
	return id, exp, nil
}

// bound makes room for one more session: past maxSessions - 1, it drops
// the one closest to its expiry.
func (s *sessions) bound(ctx context.Context) error {
	p, err := s.kv.List(SessionsNamespace, kv.ListOptions{Limit: maxSessions})
	if err != nil || len(p.Entries) < maxSessions {
		return err
	}
	oldest, when := "", time.Time{}
	for _, e := range p.Entries {
		var ss session
		if json.Unmarshal(e.Value, &ss) != nil {
			oldest = e.Key
			break
		}
		if oldest == "" || ss.Expires.Before(when) {
			oldest, when = e.Key, ss.Expires
		}
	}
	return s.kv.Delete(ctx, SessionsNamespace, oldest, nil)
}

// valid returns the token the session id stands for and the session's
// expiry, if id is a live session whose token this node accepts.
func (s *sessions) valid(id string) (access.Token, time.Time, bool) {
	if len(id) != 64 {
		return access.Token{}, time.Time{}, false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return access.Token{}, time.Time{}, false
	}
	e, err := s.kv.Get(SessionsNamespace, access.Hash(id))
	if err != nil {
		return access.Token{}, time.Time{}, false
	}
	var ss session
	if json.Unmarshal(e.Value, &ss) != nil || !s.now().Before(ss.Expires) {
		return access.Token{}, time.Time{}, false
	}
	tok, ok := s.byHash(ss.Hash)
	if !ok || tok.Name != ss.Token {
		return access.Token{}, time.Time{}, false // revoked, or the node's admin token changed
	}
	return tok, ss.Expires, true
}

// revoke ends a session, on every node once the deletion replicates.
func (s *sessions) revoke(ctx context.Context, id string) error {
	if len(id) != 64 {
		return nil
	}
	err := s.kv.Delete(ctx, SessionsNamespace, access.Hash(id), nil)
	if errors.Is(err, kv.ErrNotFound) {
		return nil
	}
	return err
}
