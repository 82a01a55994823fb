package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// decodeTOML decodes data strictly into a rawFile. Problems are added to
// c; ok is false when the document could not be decoded completely (a
// type mismatch, a redefined key), so validation must not run.
func decodeTOML(data []byte, ps *positions, c *errs) (raw *rawFile, ok bool) {
	raw = &rawFile{}
	dec := toml.NewDecoder(bytes.NewReader(data))
	// go-toml renders each unknown field's error with a pass over the
	// whole document: with many of them, that is quadratic. Past a
	// handful, the unknown fields are reported from the position index
	// instead (same paths, same messages) and decoding is lenient.
	if unknown := ps.unknownFields(); len(unknown) <= maxStrictUnknown {
		dec.DisallowUnknownFields()
	} else {
		for _, u := range unknown[:maxStrictUnknown] {
			c.add(u.p, ErrInvalid, nil, unknownMsg(u.p, u.table))
		}
		c.add(unknown[maxStrictUnknown].p, ErrInvalid, nil, fmt.Sprintf("and %d more unknown fields", len(unknown)-maxStrictUnknown))
	}
	err := dec.Decode(raw)
	if err == nil {
		return raw, true
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		// The rest of the document was decoded: report the unknown
		// fields and go on validating.
		for i := range strict.Errors {
			de := &strict.Errors[i]
			p, _ := locate(ps, de)
			p, _ = firstUnknown(p)
			c.add(p, ErrInvalid, nil, unknownMsg(p, strings.Contains(de.Error(), "missing table")))
		}
		return raw, true
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		p, sp := locate(ps, de)
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if strings.HasPrefix(msg, "cannot decode") || strings.Contains(msg, "cannot store") {
			if want := describeType(typeAt(p)); want != "" && sp.kind != unstable.Invalid {
				msg = "want " + want + ", got " + describeKind(sp.kind)
			}
		}
		line, _ := de.Position()
		c.list = append(c.list, &Error{File: c.file, Line: line, Field: p.String(), Msg: msg, Err: ErrInvalid})
		return nil, false
	}
	c.list = append(c.list, &Error{File: c.file, Msg: err.Error(), Err: ErrInvalid})
	return nil, false
}

// locate finds the field a go-toml error points at, with array indices,
// from the error's position: go-toml's own key has no indices (and is
// not always complete).
func locate(ps *positions, de *toml.DecodeError) (path, span) {
	line, col := de.Position()
	if sp, ok := ps.at(line, col); ok {
		return sp.p, sp
	}
	var p path
	for _, k := range de.Key() {
		p = p.key(k)
	}
	return p, span{}
}

// maxStrictUnknown is the most unknown fields go-toml's strict mode is
// asked to report.
const maxStrictUnknown = 100

// firstUnknown cuts p after its first key that is not in the schema (a
// dotted key or a table header may run past the unknown part), and
// reports whether there is one.
func firstUnknown(p path) (path, bool) {
	for n := 1; n <= len(p); n++ {
		if p[n-1].idx < 0 && typeAt(p[:n]) == nil {
			return p[:n], true
		}
	}
	return p, false
}

func unknownMsg(p path, table bool) string {
	msg := "unknown field"
	if table {
		msg = "unknown table"
	}
	if known := fieldsAt(p.parent()); len(known) > 0 {
		msg += "; known fields here: " + strings.Join(known, ", ")
	}
	return msg
}

// unknownField is a field of the document that the schema lacks.
type unknownField struct {
	p     path
	table bool
}

// unknownFields lists the fields of the document that the schema lacks,
// in document order, each once.
func (ps *positions) unknownFields() []unknownField {
	var out []unknownField
	seen := map[string]bool{}
	for _, sp := range ps.spans {
		p, ok := firstUnknown(sp.p)
		if !ok || seen[p.String()] {
			continue
		}
		seen[p.String()] = true
		out = append(out, unknownField{p: p, table: sp.kind == unstable.Table || sp.kind == unstable.ArrayTable})
	}
	return out
}

// typeAt is the Go type the decoder fills at p, or nil when p is not in
// the schema (or is free-form, like a secret's value).
func typeAt(p path) reflect.Type {
	t := reflect.TypeFor[rawFile]()
	for _, s := range p {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t.Kind() == reflect.Interface:
			return t // free-form below (a secret's value)
		case s.idx >= 0 && t.Kind() == reflect.Slice:
			t = t.Elem()
		case s.idx < 0 && t.Kind() == reflect.Map:
			t = t.Elem()
		case s.idx < 0 && t.Kind() == reflect.Struct:
			f, ok := fieldByTag(t, s.key)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag == name && tag != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// fieldsAt lists the TOML field names of the table at p, sorted; none
// when p is a map (free keys) or unknown.
func fieldsAt(p path) []string {
	t := typeAt(p)
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	sort.Strings(out)
	return out
}

func describeType(t reflect.Type) string {
	if t == nil {
		return ""
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Struct, reflect.Map:
		return "a table"
	case reflect.Slice:
		e := t.Elem()
		for e.Kind() == reflect.Pointer {
			e = e.Elem()
		}
		if e.Kind() == reflect.Struct {
			return "an array of tables"
		}
		if d := describeType(e); d != "" {
			return "an array of " + strings.TrimPrefix(strings.TrimPrefix(d, "an "), "a ") + "s"
		}
		return "an array"
	}
	return ""
}

func describeKind(k unstable.Kind) string {
	switch k {
	case unstable.String:
		return "a string"
	case unstable.Integer:
		return "an integer"
	case unstable.Float:
		return "a float"
	case unstable.Bool:
		return "a boolean"
	case unstable.Array:
		return "an array"
	case unstable.InlineTable, unstable.Table:
		return "a table"
	case unstable.ArrayTable:
		return "an array of tables"
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		return "a date or time"
	}
	return strings.ToLower(k.String())
}
