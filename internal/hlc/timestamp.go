package hlc

import (
	"time"

	"github.com/wedge-run/wedge/model"
)

// Timestamp is a hybrid logical clock reading: model.Stamp, the one type
// every record of the cluster carries (functions, apps, key-value
// entries), with its order, its binary encoding and its JSON form.
type Timestamp = model.Stamp

// EncodedLen is the length in bytes of a binary-encoded [Timestamp].
const EncodedLen = model.StampLen

// ErrInvalidEncoding is returned when decoding bytes that are not a valid
// binary-encoded [Timestamp].
var ErrInvalidEncoding = model.ErrInvalidStamp

// FromTime returns the timestamp for physical time t with a zero logical
// counter; t is truncated to the millisecond.
func FromTime(t time.Time) Timestamp { return model.StampFromTime(t) }

// Decode decodes a timestamp from exactly [EncodedLen] bytes.
func Decode(b []byte) (Timestamp, error) { return model.DecodeStamp(b) }
