package manifest

import (
	"fmt"
	"log/slog"
	"os"
)

// Secret is a secret variable of a function. In the file it is either a
// literal (Value set, discouraged: the file is usually committed) or a
// reference to an environment variable of whoever deploys (Env set,
// Value filled by Resolve). A Secret never prints its value: String,
// GoString, LogValue and MarshalJSON show only Env.
type Secret struct {
	// Value is the secret. Empty for an Env secret until it is resolved.
	Value string
	// Env names the deployer's environment variable holding the value;
	// empty for a literal.
	Env string
}

// Resolve fills Value from lookupEnv(Env) (os.LookupEnv when nil). A
// literal is left alone. An unset or empty variable is an error wrapping
// ErrSecretUnset.
func (s *Secret) Resolve(lookupEnv func(string) (string, bool)) error {
	if msg := s.resolve(lookupEnv); msg != "" {
		return fmt.Errorf("%w: %s", ErrSecretUnset, msg)
	}
	return nil
}

// resolve does Resolve's work and says what is wrong, if anything.
func (s *Secret) resolve(lookupEnv func(string) (string, bool)) string {
	if s.Env == "" {
		return ""
	}
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	v, ok := lookupEnv(s.Env)
	switch {
	case !ok:
		return "environment variable " + s.Env + " is not set"
	case v == "":
		return "environment variable " + s.Env + " is empty"
	}
	s.Value = v
	return ""
}

// Resolved reports whether the secret has its value.
func (s Secret) Resolved() bool { return s.Value != "" }

// String hides the value.
func (s Secret) String() string {
	if s.Env != "" {
		return "secret(env " + s.Env + ")"
	}
	return "secret(literal)"
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue hides the value from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON hides the value: {"env":"NAME"} or {}. Spec is the only
// encoding that carries secret values.
func (s Secret) MarshalJSON() ([]byte, error) {
	if s.Env == "" {
		return []byte(`{}`), nil
	}
	return fmt.Appendf(nil, `{"env":%q}`, s.Env), nil
}

// ResolveSecrets resolves every Env secret of every function with
// lookupEnv (os.LookupEnv when nil). It reports every variable missing,
// each as an *Error located at the secret, in an *ErrorList.
func (a *App) ResolveSecrets(lookupEnv func(string) (string, bool)) error {
	c := &errs{file: a.File, pos: a.pos}
	for i := range a.Functions {
		f := &a.Functions[i]
		for _, k := range sortedKeys(f.Secrets) {
			s := f.Secrets[k]
			if msg := s.resolve(lookupEnv); msg != "" {
				c.add(path{}.key("functions").key(f.Name).key("secrets").key(k), ErrSecretUnset, nil, msg)
				continue
			}
			f.Secrets[k] = s
		}
	}
	return c.result()
}
