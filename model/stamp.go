package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// StampLen is the length in bytes of a binary-encoded [Stamp].
const StampLen = 12

// ErrInvalidStamp is returned when decoding bytes that are not a valid
// binary-encoded [Stamp], and when encoding a stamp that has no binary
// form (negative Wall).
var ErrInvalidStamp = errors.New("hlc: invalid timestamp encoding")

// Stamp is a hybrid logical clock reading (internal/hlc issues them):
// it orders the changes of a cluster, last writer wins. The zero value
// is the smallest stamp and means "no stamp". Its JSON form is
// {"wall": ms, "logical": n}; the field names of earlier versions
// ("Wall", "Logical") decode too, as encoding/json matches names without
// regard to case.
type Stamp struct {
	// Wall is physical time in milliseconds since the Unix epoch.
	Wall int64 `json:"wall"`
	// Logical orders events that share the same Wall millisecond.
	Logical uint32 `json:"logical"`
}

// StampFromTime returns the timestamp for physical time t with a zero logical
// counter; t is truncated to the millisecond.
func StampFromTime(t time.Time) Stamp {
	return Stamp{Wall: t.UnixMilli()}
}

// IsZero reports whether t is the zero timestamp.
func (t Stamp) IsZero() bool { return t.Wall == 0 && t.Logical == 0 }

// Compare returns -1 if t is before u, 0 if they are equal and +1 if t is
// after u.
func (t Stamp) Compare(u Stamp) int {
	switch {
	case t.Wall < u.Wall:
		return -1
	case t.Wall > u.Wall:
		return 1
	case t.Logical < u.Logical:
		return -1
	case t.Logical > u.Logical:
		return 1
	}
	return 0
}

// Less reports whether t is before u.
func (t Stamp) Less(u Stamp) bool { return t.Compare(u) < 0 }

// Time returns the physical part of t as a time.Time.
func (t Stamp) Time() time.Time { return time.UnixMilli(t.Wall) }

// String formats t as its wall time in UTC with millisecond precision,
// a slash and the logical counter, for example
// "2024-05-01T12:00:00.123Z/3". The format is meant for people; use the
// binary encoding to store or transmit timestamps.
func (t Stamp) String() string {
	b := make([]byte, 0, 40)
	b = t.Time().UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.Logical), 10)
	return string(b)
}

// Append appends the [StampLen]-byte binary encoding of t to b and
// returns the extended slice. A negative Wall is encoded as its two's
// complement and will not decode; use [Stamp.AppendBinary] to get an
// error instead.
func (t Stamp) Append(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Wall))
	return binary.BigEndian.AppendUint32(b, t.Logical)
}

// AppendBinary implements encoding.BinaryAppender.
func (t Stamp) AppendBinary(b []byte) ([]byte, error) {
	if t.Wall < 0 {
		return b, fmt.Errorf("%w: negative wall time %d", ErrInvalidStamp, t.Wall)
	}
	return t.Append(b), nil
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (t Stamp) MarshalBinary() ([]byte, error) {
	return t.AppendBinary(make([]byte, 0, StampLen))
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (t *Stamp) UnmarshalBinary(b []byte) error {
	v, err := DecodeStamp(b)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// DecodeStamp decodes a timestamp from exactly [StampLen] bytes.
func DecodeStamp(b []byte) (Stamp, error) {
	if len(b) != StampLen {
		return Stamp{}, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidStamp, len(b), StampLen)
	}
	w := binary.BigEndian.Uint64(b)
	if w > 1<<63-1 {
		return Stamp{}, fmt.Errorf("%w: wall time out of range", ErrInvalidStamp)
	}
	return Stamp{Wall: int64(w), Logical: binary.BigEndian.Uint32(b[8:])}, nil
}
