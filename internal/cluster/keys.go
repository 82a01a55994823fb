package cluster

import (
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// Gossip key rotation. The keyring is per node; rotate on every node,
// step by step, letting each step reach all nodes before the next:
//
//  1. InstallKey(new) on every node: all can now decrypt both keys;
//  2. UseKey(new) on every node: they encrypt with it;
//  3. RemoveKey(old) on every node.
//
// A node that still has only the old key is cut off after step 3.
// KeyOp runs one step on every alive member (keyops.go).
//
// With encryption on, the node-to-node HTTP signature and sealing
// (seal.go) follow the keyring too: requests are signed, and values
// sealed, with the secrets derived from the primary key, and accepted,
// or opened, under any installed key's, so nodes keep fetching from
// each other at every step of a rotation.

func (c *Cluster) keyring() (*memberlist.Keyring, error) {
	if c.mlc.Keyring == nil {
		return nil, ErrNotEncrypted
	}
	return c.mlc.Keyring, nil
}

// peerSecrets are the node-to-node secrets derived from the keyring:
// HTTP signature secrets (sign with the first, accept any) and sealing
// ciphers (seal with the first, try all to open; none without keys).
type peerSecrets struct {
	sign   []byte
	verify [][]byte
	seal   []cipher.AEAD
}

// refreshSecrets derives the peer secrets from the keyring (or takes
// Config.PeerSecret without one) and tells Config.OnKeysChange.
func (c *Cluster) refreshSecrets() {
	kr, err := c.keyring()
	if err != nil {
		c.secrets.Store(&peerSecrets{sign: c.cfg.PeerSecret, verify: [][]byte{c.cfg.PeerSecret}})
		return
	}
	keys := kr.GetKeys() // primary first
	ps := &peerSecrets{}
	for _, k := range keys {
		ps.verify = append(ps.verify, DerivePeerSecret(k))
		aead, err := sealAEAD(k)
		if err != nil { // cannot happen: the derived key is 32 bytes
			c.log.Error("cluster: deriving the sealing key", "err", err)
			continue
		}
		ps.seal = append(ps.seal, aead)
	}
	ps.sign = ps.verify[0]
	c.secrets.Store(ps)
}

// keysChanged refreshes the secrets after a keyring change and reports
// the new keyring to Config.OnKeysChange (to persist it).
func (c *Cluster) keysChanged() error {
	c.refreshSecrets()
	if c.cfg.OnKeysChange != nil {
		return c.cfg.OnKeysChange(c.Keys())
	}
	return nil
}

// InstallKey adds key to the keyring (to decrypt with); installing a
// key already there is a no-op.
func (c *Cluster) InstallKey(key []byte) error {
	kr, err := c.keyring()
	if err != nil {
		return err
	}
	if err := kr.AddKey(key); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return c.keysChanged()
}

// UseKey makes an installed key the primary one, used to encrypt.
func (c *Cluster) UseKey(key []byte) error {
	kr, err := c.keyring()
	if err != nil {
		return err
	}
	if err := kr.UseKey(key); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return c.keysChanged()
}

// RemoveKey removes a key that is not the primary one.
func (c *Cluster) RemoveKey(key []byte) error {
	kr, err := c.keyring()
	if err != nil {
		return err
	}
	if err := kr.RemoveKey(key); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return c.keysChanged()
}

// Keys returns the installed keys, the primary one first (nil without
// encryption). The slices are copies.
func (c *Cluster) Keys() [][]byte {
	kr, err := c.keyring()
	if err != nil {
		return nil
	}
	keys := kr.GetKeys()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = append([]byte(nil), k...)
	}
	return out
}

// KeyFingerprint names a key without revealing it: the first 8 bytes
// of its sha256, in hex.
func KeyFingerprint(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}
