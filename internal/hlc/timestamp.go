package hlc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// EncodedLen is the length in bytes of a binary-encoded [Timestamp].
const EncodedLen = 12

// ErrInvalidEncoding is returned when decoding bytes that are not a valid
// binary-encoded [Timestamp], and when encoding a timestamp that has no
// binary form (negative Wall).
var ErrInvalidEncoding = errors.New("hlc: invalid timestamp encoding")

// Timestamp is a hybrid logical clock reading. The zero value is the
// smallest timestamp and means "no timestamp".
type Timestamp struct {
	// Wall is physical time in milliseconds since the Unix epoch.
	Wall int64
	// Logical orders events that share the same Wall millisecond.
	Logical uint32
}

// FromTime returns the timestamp for physical time t with a zero logical
// counter; t is truncated to the millisecond.
func FromTime(t time.Time) Timestamp {
	return Timestamp{Wall: t.UnixMilli()}
}

// IsZero reports whether t is the zero timestamp.
func (t Timestamp) IsZero() bool { return t.Wall == 0 && t.Logical == 0 }

// Compare returns -1 if t is before u, 0 if they are equal and +1 if t is
// after u.
func (t Timestamp) Compare(u Timestamp) int {
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
func (t Timestamp) Less(u Timestamp) bool { return t.Compare(u) < 0 }

// Time returns the physical part of t as a time.Time.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.Wall) }

// String formats t as its wall time in UTC with millisecond precision,
// a slash and the logical counter, for example
// "2024-05-01T12:00:00.123Z/3". The format is meant for people; use the
// binary encoding to store or transmit timestamps.
func (t Timestamp) String() string {
	b := make([]byte, 0, 40)
	b = t.Time().UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.Logical), 10)
	return string(b)
}

// Append appends the [EncodedLen]-byte binary encoding of t to b and
// returns the extended slice. A negative Wall is encoded as its two's
// complement and will not decode; use [Timestamp.AppendBinary] to get an
// error instead.
func (t Timestamp) Append(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Wall))
	return binary.BigEndian.AppendUint32(b, t.Logical)
}

// AppendBinary implements encoding.BinaryAppender.
func (t Timestamp) AppendBinary(b []byte) ([]byte, error) {
	if t.Wall < 0 {
		return b, fmt.Errorf("%w: negative wall time %d", ErrInvalidEncoding, t.Wall)
	}
	return t.Append(b), nil
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (t Timestamp) MarshalBinary() ([]byte, error) {
	return t.AppendBinary(make([]byte, 0, EncodedLen))
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (t *Timestamp) UnmarshalBinary(b []byte) error {
	v, err := Decode(b)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Decode decodes a timestamp from exactly [EncodedLen] bytes.
func Decode(b []byte) (Timestamp, error) {
	if len(b) != EncodedLen {
		return Timestamp{}, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidEncoding, len(b), EncodedLen)
	}
	w := binary.BigEndian.Uint64(b)
	if w > 1<<63-1 {
		return Timestamp{}, fmt.Errorf("%w: wall time out of range", ErrInvalidEncoding)
	}
	return Timestamp{Wall: int64(w), Logical: binary.BigEndian.Uint32(b[8:])}, nil
}
