package manifest

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// Sentinels. Every *Error unwraps to one of them (and to its cause, when
// there is one), so errors.Is works on an *ErrorList too.
var (
	// ErrInvalid: the manifest or spec breaks a rule.
	ErrInvalid = errors.New("invalid manifest")
	// ErrSyntax: the file is not valid TOML (also unwraps to ErrInvalid).
	ErrSyntax = errors.New("TOML syntax error")
	// ErrSecretUnset: a secret's environment variable is not set, or empty.
	ErrSecretUnset = errors.New("secret not set")
	// ErrSecretUnresolved: Spec was called before ResolveSecrets.
	ErrSecretUnresolved = errors.New("secret not resolved")
	// ErrModule: Check found a module file missing or not WebAssembly.
	ErrModule = errors.New("module file unusable")
)

// Error is one problem, located by file, line and field.
type Error struct {
	// File is the manifest's path as given; empty for a spec.
	File string
	// Line is the 1-based line of the field (or of its closest enclosing
	// table when the field itself is absent); 0 when unknown.
	Line int
	// Field is the field's path: dotted keys with array indices, keys
	// quoted when they are not bare TOML keys, e.g.
	// functions.notify.triggers[0].cron or functions.a.config."x.y".
	// Empty for errors about the whole file (syntax errors).
	Field string
	// Msg says what is wrong.
	Msg string
	// Err is the sentinel (ErrInvalid, ...) and cause, for errors.Is.
	Err error
}

// Error formats e as "file:line: field: msg", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel and cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem found, sorted by line (problems without a
// line first), in the order they were found within a line.
type ErrorList struct {
	Errors []*Error
}

// Error is one error per line.
func (l *ErrorList) Error() string {
	s := make([]string, len(l.Errors))
	for i, e := range l.Errors {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (l *ErrorList) Unwrap() []error {
	out := make([]error, len(l.Errors))
	for i, e := range l.Errors {
		out[i] = e
	}
	return out
}

// errs collects errors with their positions.
type errs struct {
	file string
	pos  *positions // nil: no positions (spec)
	list []*Error
}

// add records a problem at p. cause, if not nil, joins the sentinel.
func (c *errs) add(p path, sentinel, cause error, msg string) {
	err := sentinel
	if cause != nil {
		err = errors.Join(sentinel, cause)
	}
	c.list = append(c.list, &Error{File: c.file, Line: c.pos.line(p), Field: p.String(), Msg: msg, Err: err})
}

func (c *errs) invalid(p path, msg string) { c.add(p, ErrInvalid, nil, msg) }

// result sorts the errors and returns them as an *ErrorList, or nil.
func (c *errs) result() error {
	if len(c.list) == 0 {
		return nil
	}
	sort.SliceStable(c.list, func(i, j int) bool { return c.list[i].Line < c.list[j].Line })
	return &ErrorList{Errors: c.list}
}
