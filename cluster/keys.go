package cluster

import (
	"fmt"

	"github.com/hashicorp/memberlist"
)

// Gossip key rotation. The keyring is per node: rotate on every node,
// step by step, and let each step reach all nodes before the next:
//
//  1. InstallKey(new) on every node: all can now decrypt both keys;
//  2. UseKey(new) on every node: they encrypt with it;
//  3. RemoveKey(old) on every node.
//
// A node that still has only the old key is cut off after step 3.

func (c *Cluster) keyring() (*memberlist.Keyring, error) {
	if c.mlc.Keyring == nil {
		return nil, ErrNotEncrypted
	}
	return c.mlc.Keyring, nil
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
	return nil
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
	return nil
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
	return nil
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
