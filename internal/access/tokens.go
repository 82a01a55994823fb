package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/wedge-run/wedge/internal/kv"
)

// TokensNamespace is the reserved KV namespace that holds the tokens, one
// key per token name.
const TokensNamespace = kv.ReservedPrefix + "tokens"

// Tokens is the set of stored tokens of a node (and, through KV
// replication, of its cluster).
type Tokens struct {
	kv  *kv.Store
	sub *kv.Subscription

	mu      sync.Mutex
	byHash  map[string]Token // nil: reload before use
	dropped uint64
}

// NewTokens serves the tokens kept in st.
func NewTokens(st *kv.Store) *Tokens {
	return &Tokens{kv: st, sub: st.Subscribe(TokensNamespace, "", 64)}
}

// Close ends the change subscription.
func (t *Tokens) Close() { t.sub.Close() }

// Create stores a new token and returns its secret, which is not kept.
// by names the token that made the request.
func (t *Tokens) Create(ctx context.Context, tok Token, by string) (Token, string, error) {
	if err := tok.Validate(); err != nil {
		return Token{}, "", err
	}
	secret := NewSecret()
	tok.Hash = Hash(secret)
	tok.Created = time.Now().UTC().Truncate(time.Second)
	tok.CreatedBy = by
	b, err := json.Marshal(tok)
	if err != nil {
		return Token{}, "", err
	}
	// Version 0: the key must not exist (CAS on this node; two nodes
	// creating the same name at once converge on one of them).
	none := uint64(0)
	if _, err := t.kv.Put(ctx, TokensNamespace, tok.Name, b, kv.PutOptions{IfVersion: &none}); err != nil {
		if errors.Is(err, kv.ErrVersionConflict) {
			return Token{}, "", fmt.Errorf("%w: %q (revoke it first)", ErrExists, tok.Name)
		}
		return Token{}, "", err
	}
	t.invalidate()
	tok.Hash = ""
	return tok, secret, nil
}

// Revoke deletes the token name.
func (t *Tokens) Revoke(ctx context.Context, name string) error {
	if _, err := t.kv.Get(TokensNamespace, name); err != nil {
		if errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		return err
	}
	if err := t.kv.Delete(ctx, TokensNamespace, name, nil); err != nil {
		return err
	}
	t.invalidate()
	return nil
}

// List returns every token, sorted by name, without hashes.
func (t *Tokens) List() ([]Token, error) {
	all, err := t.load()
	if err != nil {
		return nil, err
	}
	out := make([]Token, 0, len(all))
	for _, tok := range all {
		tok.Hash = ""
		out = append(out, tok)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Lookup returns the token whose secret is secret.
func (t *Tokens) Lookup(secret string) (Token, bool) { return t.ByHash(Hash(secret)) }

// ByHash returns the token whose secret's Hash is hash (a web console
// session keeps the hash, not the secret).
func (t *Tokens) ByHash(hash string) (Token, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.changed() || t.byHash == nil {
		all, err := t.load()
		if err != nil {
			return Token{}, false
		}
		t.byHash = make(map[string]Token, len(all))
		for _, tok := range all {
			t.byHash[tok.Hash] = tok
		}
	}
	tok, ok := t.byHash[hash]
	return tok, ok
}

// changed drains the subscription: any change of the namespace, local or
// replicated, or a dropped one, means the index must be rebuilt. Caller
// holds t.mu.
func (t *Tokens) changed() bool {
	c := false
	for {
		select {
		case _, ok := <-t.sub.C():
			if !ok {
				return true // closed store: always read afresh
			}
			c = true
			continue
		default:
		}
		break
	}
	if d := t.sub.Dropped(); d != t.dropped {
		t.dropped, c = d, true
	}
	return c
}

func (t *Tokens) invalidate() {
	t.mu.Lock()
	t.byHash = nil
	t.mu.Unlock()
}

func (t *Tokens) load() ([]Token, error) {
	var out []Token
	cursor := ""
	for {
		p, err := t.kv.List(TokensNamespace, kv.ListOptions{Cursor: cursor, Limit: kv.MaxListLimit})
		if err != nil {
			return nil, err
		}
		for _, e := range p.Entries {
			var tok Token
			if json.Unmarshal(e.Value, &tok) == nil && tok.Hash != "" {
				out = append(out, tok)
			}
		}
		if p.NextCursor == "" {
			return out, nil
		}
		cursor = p.NextCursor
	}
}
