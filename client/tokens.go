package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// Token is an admin token as the node shows it. Secret is set only in
// the answer to CreateToken: the node keeps its hash, never the secret.
type Token struct {
	Name      string     `json:"name"`
	Scope     string     `json:"scope"`
	Functions string     `json:"functions,omitempty"`
	Created   time.Time  `json:"created"`
	CreatedBy string     `json:"created_by,omitempty"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	Secret    string     `json:"secret,omitempty"`
}

// CreateToken makes a token with scope (read, kv, deploy or admin),
// restricted to the functions matching pattern when it is not empty.
func (c *Client) CreateToken(ctx context.Context, name, scope, pattern string) (Token, error) {
	body, _ := json.Marshal(map[string]string{"name": name, "scope": scope, "functions": pattern})
	var t Token
	_, err := c.Do(ctx, "POST", "/v1/tokens", nil, bytes.NewReader(body), nil, &t)
	return t, err
}

// Tokens lists the tokens, the node's own admin token first.
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var out struct {
		Tokens []Token `json:"tokens"`
	}
	_, err := c.Do(ctx, "GET", "/v1/tokens", nil, nil, nil, &out)
	return out.Tokens, err
}

// RevokeToken deletes a token; requests made with it fail from then on
// (on other nodes of a cluster, once the change has propagated).
func (c *Client) RevokeToken(ctx context.Context, name string) error {
	_, err := c.Do(ctx, "DELETE", "/v1/tokens/"+url.PathEscape(name), nil, nil, nil, nil)
	return err
}

// AuditEntry is one admin request in a node's audit log.
type AuditEntry struct {
	Time   time.Time `json:"time"`
	Token  string    `json:"token"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Status int       `json:"status"`
	Remote string    `json:"remote,omitempty"`
}

// AuditQuery filters the audit log; zero fields select everything.
type AuditQuery struct {
	Since string // an RFC 3339 time or a duration back from now ("1h")
	Token string
	Limit int
}

// Audit returns the most recent admin requests the node served that
// match q, oldest first.
func (c *Client) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	v := url.Values{}
	if q.Since != "" {
		v.Set("since", q.Since)
	}
	if q.Token != "" {
		v.Set("token", q.Token)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out struct {
		Entries []AuditEntry `json:"entries"`
	}
	_, err := c.Do(ctx, "GET", "/v1/audit", v, nil, nil, &out)
	return out.Entries, err
}
