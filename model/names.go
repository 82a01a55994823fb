package model

import (
	"errors"
	"fmt"
	"regexp"
)

// ErrInvalidName reports an invalid function or app name.
var ErrInvalidName = errors.New("invalid function name")

// MaxResourceNameLen bounds namespace, bucket and queue names.
const MaxResourceNameLen = 128

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidateName checks a function (or app) name: 1 to 63 characters of
// lower-case letters, digits, '-' and '_', starting with a letter or
// digit.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w %q: use 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit", ErrInvalidName, name)
	}
	return nil
}

// ValidResourceName reports whether s is a valid namespace, bucket or
// queue name: 1 to MaxResourceNameLen bytes from [A-Za-z0-9._-], not "."
// or ".." (names appear in URL paths). It is the rule of the key-value
// store's namespaces.
func ValidResourceName(s string) bool {
	if len(s) == 0 || len(s) > MaxResourceNameLen || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
