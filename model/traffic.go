package model

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidTraffic reports a bad rollout percentage or traffic key.
var ErrInvalidTraffic = errors.New("invalid traffic split")

// ValidateTraffic checks a deploy's traffic percentage: 0 or 100 (the
// new version serves every request) or 1..99 (a gradual rollout).
func ValidateTraffic(p int) error {
	if p < 0 || p > 100 {
		return fmt.Errorf("%w: traffic must be between 0 and 100 percent, got %d", ErrInvalidTraffic, p)
	}
	return nil
}

// ValidateTrafficKey checks a traffic key: empty, "header:NAME" or
// "cookie:NAME".
func ValidateTrafficKey(k string) error {
	if k == "" {
		return nil
	}
	kind, name, ok := strings.Cut(k, ":")
	if !ok || (kind != "header" && kind != "cookie") || name == "" || strings.ContainsAny(name, " \t\r\n:;=,") {
		return fmt.Errorf("%w: traffic_key %q: want \"header:NAME\" or \"cookie:NAME\"", ErrInvalidTraffic, k)
	}
	return nil
}
