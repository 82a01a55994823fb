package wedge

// host is the seam between the SDK and the wedge host: every host call
// goes through it. On wasip1 it is the real set of wedge_v1 imports
// (host_wasip1.go); elsewhere it is a stub that answers "unsupported"
// (host_other.go), and tests replace it with an in-memory fake.
//
// Results follow the ABI: a value >= 0 is success (usually a length), a
// value < 0 is the negation of an error code (package abi).
type host interface {
	// requestHead copies the encoded request head into buf if it fits and
	// returns its length either way.
	requestHead(buf []byte) int32
	// requestBody reads the next bytes of the request body into buf;
	// 0 means the body is exhausted.
	requestBody(buf []byte) int32
	// responseHead sets the status and replaces the response headers with
	// an encoded header list.
	responseHead(status int32, headers []byte) int32
	// responseWrite appends buf to the response body.
	responseWrite(buf []byte) int32
	// log adds one line to the function's logs.
	log(level int32, msg string) int32
	// configGet copies a configuration variable into buf if it fits and
	// returns its length either way.
	configGet(key string, buf []byte) int32
	// kvGet copies a value into buf if it fits and returns its length
	// either way; it stores the value's version in *version.
	kvGet(ns, key string, buf []byte, version *uint64) int32
	// kvPut stores a value and returns its new version.
	kvPut(ns, key string, val []byte, ttlMillis, ifVersion int64) int64
	// kvDelete deletes a key.
	kvDelete(ns, key string, ifVersion int64) int32
	// kvIncrement adds delta to a counter and stores the result in *out.
	kvIncrement(ns, key string, delta int64, out *int64) int32
	// kvList writes an encoded page of keys into buf if it fits and
	// returns its length either way.
	kvList(ns, prefix, cursor string, limit int32, buf []byte) int32
	// eventGet copies the event envelope (JSON) into buf if it fits and
	// returns its length either way; -ErrNotFound outside the event entry.
	eventGet(buf []byte) int32
	// queuePublish stores a message on a queue; 0 once it is durable.
	queuePublish(queue string, body []byte) int32
	// objectRead copies up to len(buf) bytes of an object, from offset,
	// into buf and returns how many; 0 at the end.
	objectRead(bucket, name string, offset int64, buf []byte) int64
}

// sys is the host every SDK function talks to.
var sys host = platformHost()
