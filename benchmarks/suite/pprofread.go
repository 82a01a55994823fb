package suite

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
)

// A minimal reader of the pprof profile format (profile.proto, gzipped),
// enough to attribute CPU samples by function: the suite would otherwise
// need github.com/google/pprof for one loop over the samples.

// profSample is one stack (leaf first, function names) and its value in
// the profile's last sample type (nanoseconds of CPU for a CPU profile).
type profSample struct {
	stack []string
	count int64 // samples with this stack (the first sample type)
	value int64
}

var errProfile = errors.New("suite: malformed profile")

// pbReader walks protobuf fields.
type pbReader struct {
	b   []byte
	err error
}

func (r *pbReader) varint() uint64 {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if len(r.b) == 0 {
			r.err = errProfile
			return 0
		}
		c := r.b[0]
		r.b = r.b[1:]
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	r.err = errProfile
	return 0
}

// next returns the next field's number, wire type, varint value or bytes.
func (r *pbReader) next() (field int, wire int, v uint64, data []byte, ok bool) {
	if len(r.b) == 0 || r.err != nil {
		return 0, 0, 0, nil, false
	}
	key := r.varint()
	field, wire = int(key>>3), int(key&7)
	switch wire {
	case 0:
		v = r.varint()
	case 1:
		if len(r.b) < 8 {
			r.err = errProfile
			return 0, 0, 0, nil, false
		}
		r.b = r.b[8:]
	case 2:
		n := r.varint()
		if uint64(len(r.b)) < n {
			r.err = errProfile
			return 0, 0, 0, nil, false
		}
		data, r.b = r.b[:n], r.b[n:]
	case 5:
		if len(r.b) < 4 {
			r.err = errProfile
			return 0, 0, 0, nil, false
		}
		r.b = r.b[4:]
	default:
		r.err = errProfile
		return 0, 0, 0, nil, false
	}
	return field, wire, v, data, r.err == nil
}

// uints reads a repeated uint64 field, packed or not.
func uints(wire int, v uint64, data []byte, into []uint64) []uint64 {
	if wire == 0 {
		return append(into, v)
	}
	p := pbReader{b: data}
	for len(p.b) > 0 && p.err == nil {
		into = append(into, p.varint())
	}
	return into
}

// readProfile decodes a gzipped CPU profile into samples.
func readProfile(gz []byte) ([]profSample, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	type rawSample struct{ locs, values []uint64 }
	var (
		samples   []rawSample
		strs      []string
		funcName  = map[uint64]int64{}    // function id -> string index
		locFuncs  = map[uint64][]uint64{} // location id -> function ids, innermost first
		nSampleTy int
	)
	r := pbReader{b: raw}
	for {
		f, wire, _, data, ok := r.next()
		if !ok {
			break
		}
		switch f {
		case 1:
			nSampleTy++
		case 2:
			var s rawSample
			p := pbReader{b: data}
			for {
				sf, sw, sv, sd, ok := p.next()
				if !ok {
					break
				}
				switch sf {
				case 1:
					s.locs = uints(sw, sv, sd, s.locs)
				case 2:
					s.values = uints(sw, sv, sd, s.values)
				}
			}
			samples = append(samples, s)
		case 4:
			var id uint64
			var fns []uint64
			p := pbReader{b: data}
			for {
				lf, _, lv, ld, ok := p.next()
				if !ok {
					break
				}
				switch lf {
				case 1:
					id = lv
				case 4: // Line: function_id (1)
					q := pbReader{b: ld}
					for {
						ff, _, fv, _, ok := q.next()
						if !ok {
							break
						}
						if ff == 1 {
							fns = append(fns, fv)
						}
					}
				}
			}
			locFuncs[id] = fns
		case 5:
			var id uint64
			var name int64
			p := pbReader{b: data}
			for {
				ff, _, fv, _, ok := p.next()
				if !ok {
					break
				}
				switch ff {
				case 1:
					id = fv
				case 2:
					name = int64(fv)
				}
			}
			funcName[id] = name
		case 6:
			strs = append(strs, string(data))
		}
		_ = wire
	}
	if r.err != nil {
		return nil, r.err
	}
	out := make([]profSample, 0, len(samples))
	for _, s := range samples {
		if len(s.values) == 0 {
			continue
		}
		ps := profSample{count: int64(s.values[0]), value: int64(s.values[len(s.values)-1])}
		for _, l := range s.locs {
			for _, fid := range locFuncs[l] {
				if i := funcName[fid]; i >= 0 && int(i) < len(strs) {
					ps.stack = append(ps.stack, strs[i])
				}
			}
		}
		out = append(out, ps)
	}
	_ = nSampleTy
	return out, nil
}
