package kv

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on keys, values and namespace names.
const (
	// MaxKeyLen is the maximum length of a key in bytes.
	MaxKeyLen = 512
	// MaxValueLen is the maximum length of a value in bytes (1 MiB).
	MaxValueLen = 1 << 20
	// MaxNamespaceLen is the maximum length of a namespace name in bytes.
	MaxNamespaceLen = 128
)

// ValidNamespace reports whether ns is a valid namespace name: 1 to
// MaxNamespaceLen bytes from [A-Za-z0-9._-], and not "." or "..".
// Namespace names appear in URL paths, so they are restricted to
// characters that need no escaping.
func ValidNamespace(ns string) bool {
	if len(ns) == 0 || len(ns) > MaxNamespaceLen || ns == "." || ns == ".." {
		return false
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func checkNamespace(ns string) error {
	if !ValidNamespace(ns) {
		if len(ns) > MaxNamespaceLen {
			return fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidNamespace, len(ns), MaxNamespaceLen)
		}
		return fmt.Errorf("%w: %q (want 1 to %d characters from A-Z a-z 0-9 . _ -)", ErrInvalidNamespace, ns, MaxNamespaceLen)
	}
	return nil
}

// checkKey validates a key: 1 to MaxKeyLen bytes of valid UTF-8.
func checkKey(key string) error {
	switch {
	case len(key) == 0:
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrKeyTooLarge, len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidKey, key)
	}
	return nil
}

func checkNamespaceKey(ns, key string) error {
	if err := checkNamespace(ns); err != nil {
		return err
	}
	return checkKey(key)
}

func checkValue(v []byte) error {
	if len(v) > MaxValueLen {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrValueTooLarge, len(v), MaxValueLen)
	}
	return nil
}

func checkTTL(ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("%w: %v is negative", ErrInvalidTTL, ttl)
	}
	return nil
}

// ReservedPrefix starts the namespaces the node keeps for itself (admin
// tokens, ACME certificates). They replicate like any other, but guests,
// KV triggers and the admin KV API cannot reach them (Reserved).
const ReservedPrefix = "_wedge."

// Reserved reports whether ns is one of the node's own namespaces.
func Reserved(ns string) bool { return strings.HasPrefix(ns, ReservedPrefix) }
