package snapshot

import "sort"

// edit replaces (body) or removes (drop) the section with a given id. An
// edit for a section the input lacks inserts it at its required position.
type edit struct {
	body []byte
	drop bool
}

// emit writes the module back out, applying edits to non-custom sections
// and copying every other section byte for byte. An inserted section goes
// directly after the last section that must precede it, so custom
// sections that trailed that one (such as "name") stay after it.
func (m *module) emit(edits map[byte]edit) []byte {
	// after[i] lists inserted section ids to write after m.sections[i];
	// index -1 (key -1) means right after the header.
	after := map[int][]byte{}
	size := len(wasmHeader)
	for id, e := range edits {
		if e.drop || m.find(id) >= 0 {
			continue
		}
		pos := -1
		for i, s := range m.sections {
			if s.id != secCustom && sectionRank[s.id] < sectionRank[id] {
				pos = i
			}
		}
		after[pos] = append(after[pos], id)
	}
	for _, ids := range after {
		sort.Slice(ids, func(a, b int) bool { return sectionRank[ids[a]] < sectionRank[ids[b]] })
	}
	for _, s := range m.sections {
		size += len(s.raw)
	}
	for _, e := range edits {
		size += len(e.body) + 6
	}

	out := make([]byte, 0, size)
	out = append(out, wasmHeader...)
	insert := func(pos int) {
		for _, id := range after[pos] {
			out = appendSection(out, id, edits[id].body)
		}
	}
	insert(-1)
	for i, s := range m.sections {
		if e, ok := edits[s.id]; ok && s.id != secCustom {
			if !e.drop {
				out = appendSection(out, s.id, e.body)
			}
		} else {
			out = append(out, s.raw...)
		}
		insert(i)
	}
	return out
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = appendU32(out, uint32(len(body)))
	return append(out, body...)
}

func encodeExports(exports []export) []byte {
	b := appendU32(nil, uint32(len(exports)))
	for _, e := range exports {
		b = appendName(b, e.name)
		b = append(b, e.kind)
		b = appendU32(b, e.index)
	}
	return b
}
