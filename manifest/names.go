package manifest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wedge-run/wedge/internal/registry"
)

// checkName applies registry.ValidateName (function and app names) and
// returns a message that does not presume a function.
func checkName(name string) (string, error) {
	err := registry.ValidateName(name)
	if err == nil {
		return "", nil
	}
	msg := err.Error()
	if errors.Is(err, registry.ErrInvalidName) {
		msg = "invalid name " + strings.TrimPrefix(msg, registry.ErrInvalidName.Error()+" ")
	}
	return msg, err
}

// checkRoute applies registry.ValidateRoute.
func checkRoute(route string) (string, error) {
	if err := registry.ValidateRoute(route); err != nil {
		return err.Error(), err
	}
	return "", nil
}

// validResourceName reports whether s is a valid namespace, bucket or
// queue name: 1 to MaxNameLen bytes from [A-Za-z0-9._-], not "." or "..".
// It is the rule of kv.ValidNamespace (names appear in URL paths).
func validResourceName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLen || s == "." || s == ".." {
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

func resourceNameMsg(what, s string) string {
	return fmt.Sprintf("invalid %s name %q: use 1-%d characters from A-Z a-z 0-9 . _ - (not \".\" or \"..\")", what, s, MaxNameLen)
}

// validVariableName reports whether s can name a configuration variable,
// a secret or an environment variable: a letter or '_', then letters,
// digits or '_', at most MaxVariableNameLen bytes. Functions receive
// their configuration as environment variables, hence the rule.
func validVariableName(s string) bool {
	if len(s) == 0 || len(s) > MaxVariableNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func variableNameMsg(what, s string) string {
	return fmt.Sprintf("invalid %s %q: use letters, digits and '_', not starting with a digit, at most %d characters", what, s, MaxVariableNameLen)
}
