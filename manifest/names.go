package manifest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wedge-run/wedge/model"
)

// checkName applies model.ValidateName (function and app names) and
// returns a message that does not presume a function.
func checkName(name string) (string, error) {
	err := model.ValidateName(name)
	if err == nil {
		return "", nil
	}
	msg := err.Error()
	if errors.Is(err, model.ErrInvalidName) {
		msg = "invalid name " + strings.TrimPrefix(msg, model.ErrInvalidName.Error()+" ")
	}
	return msg, err
}

// checkRoute applies model.ValidateRoute.
func checkRoute(route string) (string, error) {
	if err := model.ValidateRoute(route); err != nil {
		return err.Error(), err
	}
	return "", nil
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
