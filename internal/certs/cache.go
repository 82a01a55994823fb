package certs

import (
	"context"
	"errors"

	"golang.org/x/crypto/acme/autocert"

	"github.com/wedge-run/wedge/internal/kv"
)

// CacheNamespace is the reserved KV namespace of the ACME cache.
const CacheNamespace = kv.ReservedPrefix + "acme"

// Sealer encrypts values for the other members of a cluster
// (cluster.Cluster's Seal and Open).
type Sealer interface {
	Seal(plain, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// Cache is autocert's cache in the node's key-value store. Sealer, when
// it returns one, encrypts values before they are stored (and so before
// they replicate); nil stores them as they are (a single node, whose
// KV data never leaves its data directory).
type Cache struct {
	KV     *kv.Store
	Sealer func() Sealer
}

var _ autocert.Cache = (*Cache)(nil)

// Value formats: one byte, then the data.
const (
	plainValue  = 'p'
	sealedValue = 's'
)

// Get returns a cached value; one sealed under a key this node does not
// hold is a miss (autocert then obtains the item again).
func (c *Cache) Get(_ context.Context, key string) ([]byte, error) {
	e, err := c.KV.Get(CacheNamespace, key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, autocert.ErrCacheMiss
	}
	if err != nil {
		return nil, err
	}
	v := e.Value
	if len(v) == 0 {
		return nil, autocert.ErrCacheMiss
	}
	switch v[0] {
	case plainValue:
		return v[1:], nil
	case sealedValue:
		var s Sealer
		if c.Sealer != nil {
			s = c.Sealer()
		}
		if s == nil {
			return nil, autocert.ErrCacheMiss
		}
		plain, err := s.Open(v[1:], []byte("acme "+key))
		if err != nil {
			return nil, autocert.ErrCacheMiss
		}
		return plain, nil
	}
	return nil, autocert.ErrCacheMiss
}

// Put stores a value, sealed when a Sealer is available.
func (c *Cache) Put(ctx context.Context, key string, data []byte) error {
	v := append([]byte{plainValue}, data...)
	if c.Sealer != nil {
		if s := c.Sealer(); s != nil {
			sealed, err := s.Seal(data, []byte("acme "+key))
			if err != nil {
				return err
			}
			v = append([]byte{sealedValue}, sealed...)
		}
	}
	_, err := c.KV.Put(ctx, CacheNamespace, key, v, kv.PutOptions{})
	return err
}

// Delete removes a value.
func (c *Cache) Delete(ctx context.Context, key string) error {
	err := c.KV.Delete(ctx, CacheNamespace, key, nil)
	if errors.Is(err, kv.ErrNotFound) {
		return nil
	}
	return err
}
