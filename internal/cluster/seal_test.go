package cluster

import (
	"bytes"
	"errors"
	"testing"
)

// TestSealFollowsKeyring: sealed values open with the same context on a
// node holding the key, also during and after a rotation, and on no
// other node, in no other context, and not once altered.
func TestSealFollowsKeyring(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	n := startNode(t, "sealer", withKeys(k1))
	aad := []byte("function a")
	plain := []byte(`{"TOKEN":"s3cret"}`)

	s1, err := n.c.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s1, plain) || bytes.Contains(s1, []byte("s3cret")) {
		t.Fatal("sealed value holds the plaintext")
	}
	again, _ := n.c.Seal(plain, aad)
	if bytes.Equal(s1, again) {
		t.Fatal("two seals of the same value are equal: no fresh nonce")
	}
	if got, err := n.c.Open(s1, aad); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := n.c.Open(s1, []byte("function b")); !errors.Is(err, ErrSealed) {
		t.Fatalf("opened in another context: %v", err)
	}
	altered := bytes.Clone(s1)
	altered[len(altered)-1] ^= 1
	if _, err := n.c.Open(altered, aad); !errors.Is(err, ErrSealed) {
		t.Fatalf("altered value opened: %v", err)
	}
	for _, bad := range [][]byte{nil, {sealVersion}, {2, 0, 0}} {
		if _, err := n.c.Open(bad, aad); !errors.Is(err, ErrSealed) {
			t.Fatalf("Open(%x): %v", bad, err)
		}
	}

	// Rotation: what was sealed under k1 opens while k1 is installed.
	if err := n.c.InstallKey(k2); err != nil {
		t.Fatal(err)
	}
	if err := n.c.UseKey(k2); err != nil {
		t.Fatal(err)
	}
	if _, err := n.c.Open(s1, aad); err != nil {
		t.Fatalf("value sealed under the old key, during the rotation: %v", err)
	}
	s2, err := n.c.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.c.RemoveKey(k1); err != nil {
		t.Fatal(err)
	}
	if _, err := n.c.Open(s1, aad); !errors.Is(err, ErrSealed) {
		t.Fatalf("value sealed under a removed key opened: %v", err)
	}
	if got, err := n.c.Open(s2, aad); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("value sealed under the new key: %q, %v", got, err)
	}

	// Another cluster's node, and a node without keys, open nothing.
	other := startNode(t, "other", withKeys(k1))
	if _, err := other.c.Open(s2, aad); !errors.Is(err, ErrSealed) {
		t.Fatalf("a node without the key opened it: %v", err)
	}
	plainNode := startNode(t, "plain")
	if _, err := plainNode.c.Seal(plain, aad); !errors.Is(err, ErrNotEncrypted) {
		t.Fatalf("Seal without keys: %v", err)
	}
	if _, err := plainNode.c.Open(s2, aad); !errors.Is(err, ErrSealed) {
		t.Fatalf("Open without keys: %v", err)
	}
}
