package manifest

import (
	"errors"
	"sort"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps the field paths of one TOML document to lines, and byte
// offsets back to the innermost field there. It is built from go-toml's
// parser (the unstable package), which gives every key and value its
// range in the input.
type positions struct {
	lines      map[string]int // path -> line of its first appearance
	spans      []span
	lineStarts []int // byte offset of each line's start
}

// span is the range of a key-value (key to end of value), an array
// element, or a table header's key.
type span struct {
	start, end int
	p          path
	kind       unstable.Kind // the value's kind; Table or ArrayTable for headers
}

// line is the line of p, or of its closest ancestor that appears in the
// document; 0 when none does (and always for a nil receiver).
func (ps *positions) line(p path) int {
	if ps == nil {
		return 0
	}
	for n := len(p); n > 0; n-- {
		if l, ok := ps.lines[p[:n].String()]; ok {
			return l
		}
	}
	return 0
}

// at returns the innermost span containing the 1-based line and column
// (in bytes), as go-toml's DecodeError reports them. Spans are nested or
// disjoint and sorted by start, so the innermost one containing an
// offset is the last-starting one that contains it.
func (ps *positions) at(line, col int) (span, bool) {
	if line < 1 || line > len(ps.lineStarts) {
		return span{}, false
	}
	off := ps.lineStarts[line-1] + col - 1
	i := sort.Search(len(ps.spans), func(i int) bool { return ps.spans[i].start > off })
	for i--; i >= 0; i-- {
		if s := ps.spans[i]; off < s.end || off == s.start {
			return s, true
		}
	}
	return span{}, false
}

// syntaxError is a TOML syntax error at a line.
type syntaxError struct {
	line int
	msg  string
}

// index parses data and records the position of every field. Array
// tables are numbered as the decoder numbers them, so
// [[functions.x.triggers]] headers become functions.x.triggers[0], [1]...
func index(data []byte) (*positions, *syntaxError) {
	ps := &positions{lines: map[string]int{}, lineStarts: []int{0}}
	for i, c := range data {
		if c == '\n' {
			ps.lineStarts = append(ps.lineStarts, i+1)
		}
	}
	var p unstable.Parser
	p.Reset(data)
	arrays := map[string]int{} // array-of-tables path -> elements so far
	var table path
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			keys, r := keyOf(e)
			line := ps.lineOf(int(r.Offset))
			var cur path
			for i, k := range keys {
				cur = cur.key(k)
				s := cur.String()
				if i == len(keys)-1 && e.Kind == unstable.ArrayTable {
					arrays[s]++
					ps.note(cur, line)
					cur = cur.index(arrays[s] - 1)
				} else if n, ok := arrays[s]; ok {
					cur = cur.index(n - 1)
				}
				ps.note(cur, line)
			}
			ps.spans = append(ps.spans, span{start: int(r.Offset), end: int(r.Offset + r.Length), p: cur, kind: e.Kind})
			table = cur
		case unstable.KeyValue:
			ps.keyValue(table, e)
		}
	}
	sort.SliceStable(ps.spans, func(i, j int) bool { return ps.spans[i].start < ps.spans[j].start })
	if err := p.Error(); err != nil {
		se := &syntaxError{msg: err.Error()}
		var perr *unstable.ParserError
		if errors.As(err, &perr) && perr.Highlight != nil {
			// The highlight is a subslice of data (go-toml's contract);
			// its offset follows from the capacities.
			if off := cap(data) - cap(perr.Highlight); off >= 0 && off <= len(data) {
				se.line = ps.lineOf(off)
			}
		}
		return nil, se
	}
	return ps, nil
}

// keyValue records a key-value inside the table at parent.
func (ps *positions) keyValue(parent path, kv *unstable.Node) {
	keys, r := keyOf(kv)
	line := ps.lineOf(int(r.Offset))
	cur := parent
	for _, k := range keys {
		cur = cur.key(k)
		ps.note(cur, line)
	}
	v := kv.Value()
	ps.spans = append(ps.spans, span{start: int(kv.Raw.Offset), end: int(kv.Raw.Offset + kv.Raw.Length), p: cur, kind: v.Kind})
	ps.value(cur, v)
}

// value records the elements of arrays and the keys of inline tables.
func (ps *positions) value(at path, v *unstable.Node) {
	switch v.Kind {
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			el := it.Node()
			ep := at.index(i)
			if el.Raw.Length > 0 {
				ps.note(ep, ps.lineOf(int(el.Raw.Offset)))
				ps.spans = append(ps.spans, span{start: int(el.Raw.Offset), end: int(el.Raw.Offset + el.Raw.Length), p: ep, kind: el.Kind})
			}
			ps.value(ep, el)
		}
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if kv := it.Node(); kv.Kind == unstable.KeyValue {
				ps.keyValue(at, kv)
			}
		}
	}
}

// note records p's line unless p appeared earlier.
func (ps *positions) note(p path, line int) {
	s := p.String()
	if _, ok := ps.lines[s]; !ok {
		ps.lines[s] = line
	}
}

func (ps *positions) lineOf(off int) int {
	return sort.Search(len(ps.lineStarts), func(i int) bool { return ps.lineStarts[i] > off })
}

// keyOf returns the parts of a table header's or key-value's key and the
// range they cover.
func keyOf(n *unstable.Node) ([]string, unstable.Range) {
	var keys []string
	var r unstable.Range
	it := n.Key()
	for it.Next() {
		k := it.Node()
		if len(keys) == 0 {
			r = k.Raw
		} else {
			r.Length = k.Raw.Offset + k.Raw.Length - r.Offset
		}
		keys = append(keys, string(k.Data))
	}
	return keys, r
}
