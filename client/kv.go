package client

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func kvPath(ns, key string) string {
	return "/v1/kv/" + url.PathEscape(ns) + "/" + url.PathEscape(key)
}

// KVGet returns a value and its version.
func (c *Client) KVGet(ctx context.Context, ns, key string) ([]byte, uint64, error) {
	var body []byte
	resp, err := c.Do(ctx, "GET", kvPath(ns, key), nil, nil, nil, &body)
	if err != nil {
		return nil, 0, err
	}
	v, _ := strconv.ParseUint(strings.Trim(resp.Header.Get("ETag"), `"`), 10, 64)
	return body, v, nil
}

// KVPutOptions are the optional parts of a put.
type KVPutOptions struct {
	TTL       time.Duration
	IfVersion *uint64 // compare-and-swap; 0 = only if absent
}

// KVPut stores a value and returns its new version.
func (c *Client) KVPut(ctx context.Context, ns, key string, value []byte, o KVPutOptions) (uint64, error) {
	q := url.Values{}
	if o.TTL > 0 {
		q.Set("ttl", strconv.FormatFloat(o.TTL.Seconds(), 'f', -1, 64))
	}
	if o.IfVersion != nil {
		q.Set("if-version", strconv.FormatUint(*o.IfVersion, 10))
	}
	var out struct {
		Version uint64 `json:"version"`
	}
	_, err := c.Do(ctx, "PUT", kvPath(ns, key), q, bytes.NewReader(value), http.Header{"Content-Type": {"application/octet-stream"}}, &out)
	return out.Version, err
}

// KVDelete deletes a key.
func (c *Client) KVDelete(ctx context.Context, ns, key string, ifVersion *uint64) error {
	q := url.Values{}
	if ifVersion != nil {
		q.Set("if-version", strconv.FormatUint(*ifVersion, 10))
	}
	_, err := c.Do(ctx, "DELETE", kvPath(ns, key), q, nil, nil, nil)
	return err
}

// KVIncrement adds delta to a counter and returns the new value.
func (c *Client) KVIncrement(ctx context.Context, ns, key string, delta int64) (int64, error) {
	var out struct {
		Value int64 `json:"value"`
	}
	_, err := c.Do(ctx, "POST", kvPath(ns, key), url.Values{"increment": {strconv.FormatInt(delta, 10)}}, nil, nil, &out)
	return out.Value, err
}

// KVKey is a key in a listing.
type KVKey struct {
	Key     string    `json:"key"`
	Version uint64    `json:"version"`
	Expires time.Time `json:"expires,omitempty"`
	Value   string    `json:"value,omitempty"`
}

// KVList returns one page of keys.
func (c *Client) KVList(ctx context.Context, ns, prefix, cursor string, limit int) ([]KVKey, string, error) {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Keys []KVKey `json:"keys"`
		Next string  `json:"next_cursor"`
	}
	_, err := c.Do(ctx, "GET", "/v1/kv/"+url.PathEscape(ns), q, nil, nil, &out)
	return out.Keys, out.Next, err
}

// KVNamespace describes a namespace.
type KVNamespace struct {
	Name  string `json:"name"`
	Keys  int    `json:"keys"`
	Bytes int64  `json:"bytes"`
}

// KVNamespaces lists namespaces.
func (c *Client) KVNamespaces(ctx context.Context) ([]KVNamespace, error) {
	var out struct {
		Namespaces []KVNamespace `json:"namespaces"`
	}
	_, err := c.Do(ctx, "GET", "/v1/kv", nil, nil, nil, &out)
	return out.Namespaces, err
}
