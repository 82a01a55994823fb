package manifest

import (
	"strconv"
	"strings"
)

// seg is one step of a field path: a key, or an array index (idx >= 0).
type seg struct {
	key string
	idx int
}

// path locates a field. Paths are values: key and index return new ones.
type path []seg

func (p path) key(k string) path { return p.with(seg{key: k, idx: -1}) }
func (p path) index(i int) path  { return p.with(seg{idx: i}) }

func (p path) with(s seg) path {
	q := make(path, len(p), len(p)+1)
	copy(q, p)
	return append(q, s)
}

// parent is the table holding p's last key (indices of an array of
// tables are stripped first: the parent of x[0] is x's table).
func (p path) parent() path {
	for len(p) > 0 && p[len(p)-1].idx >= 0 {
		p = p[:len(p)-1]
	}
	if len(p) == 0 {
		return p
	}
	return p[:len(p)-1]
}

// keys counts the key steps (not the indices).
func (p path) keys() int {
	n := 0
	for _, s := range p {
		if s.idx < 0 {
			n++
		}
	}
	return n
}

// String renders p as TOML would address it: dotted keys, quoted unless
// bare, with [i] for array elements.
func (p path) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.idx >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.idx))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if isBareKey(s.key) {
			b.WriteString(s.key)
		} else {
			b.WriteString(strconv.Quote(s.key))
		}
	}
	return b.String()
}

func isBareKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
