package cluster

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
)

// Sealing: what must stay secret between nodes (a function's secrets)
// is encrypted with the keyring before it leaves a node, whatever
// carries it (gossip, the HTTP record endpoints), and opened only by a
// node that holds the key. The peer signature authenticates requests
// but hides nothing, and gossip encryption covers gossip only: sealing
// is what keeps a secret out of a capture of the admin network, even a
// capture of valid traffic.
//
// A sealed value is
//
//	version   1 byte (1)
//	nonce     12 random bytes
//	sealed    AES-256-GCM ciphertext and tag
//
// under a key derived from a gossip key (HMAC-SHA256 of the label
// "wedge cluster sealed data v1"): the primary key seals, every
// installed key is tried to open, so values sealed before a rotation
// still open during it.

const sealVersion = 1

// sealAEAD is AES-256-GCM under the sealing key derived from a gossip
// key.
func sealAEAD(gossipKey []byte) (cipher.AEAD, error) {
	mac := hmac.New(sha256.New, gossipKey)
	mac.Write([]byte("wedge cluster sealed data v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plain for the other members with this node's primary
// key; aad (the context the value belongs to, for example the name of
// the function whose secrets it holds) is authenticated, not
// encrypted, and Open must be given the same. Without encryption (no
// Keys) it fails with ErrNotEncrypted: the caller must then not send
// the value at all.
func (c *Cluster) Seal(plain, aad []byte) ([]byte, error) {
	ps := c.secrets.Load()
	if len(ps.seal) == 0 {
		return nil, ErrNotEncrypted
	}
	aead := ps.seal[0]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[1:], plain, aad), nil
}

// Open decrypts a value sealed by a member (Seal) with aad, trying
// every installed key. A value sealed under a key not installed here,
// changed, or given another aad fails with an error wrapping
// ErrSealed.
func (c *Cluster) Open(sealed, aad []byte) ([]byte, error) {
	ps := c.secrets.Load()
	if len(ps.seal) == 0 {
		return nil, fmt.Errorf("%w: this node has no cluster key", ErrSealed)
	}
	if len(sealed) == 0 || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: unknown format", ErrSealed)
	}
	for _, aead := range ps.seal {
		n := 1 + aead.NonceSize()
		if len(sealed) < n+aead.Overhead() {
			return nil, fmt.Errorf("%w: too short", ErrSealed)
		}
		if plain, err := aead.Open(nil, sealed[1:n], sealed[n:], aad); err == nil {
			return plain, nil
		}
	}
	return nil, fmt.Errorf("%w: not sealed under any key installed here, or altered", ErrSealed)
}
